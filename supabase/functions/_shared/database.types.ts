
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[]

export type Database = {
  
  "public": {
          Tables: {
            "ad_spend_daily": {
                  Row: {
                    "amount": number,"created_at": string,"creative_id": string,"currency": string,"id": string,"spend_date": string,"updated_at": string,"user_account_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "amount": number,"created_at"?: string,"creative_id": string,"currency": string,"id"?: string,"spend_date": string,"updated_at"?: string,"user_account_id": string
                  }
                  Update: {
                    "amount"?: number,"created_at"?: string,"creative_id"?: string,"currency"?: string,"id"?: string,"spend_date"?: string,"updated_at"?: string,"user_account_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "ad_spend_daily_creative_same_account_fkey"
      columns: ["creative_id","user_account_id"]
isOneToOne: false
      referencedRelation: "creatives"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "ad_spend_daily_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "ad_spend_daily_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "ad_spend_daily_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "ad_spend_daily_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "ad_spend_daily_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "ad_spend_daily_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"amocrm_deals": {
                  Row: {
                    "amocrm_created_at": string | null,"amocrm_lead_id": number,"amocrm_updated_at": string | null,"api_closed_at": string | null,"api_pipeline_id": number | null,"api_price": number | null,"api_status_id": number | null,"api_updated_at": string | null,"attribution": string | null,"closed_at": string | null,"contact_phone_e164": string | null,"created_at": string,"deleted_at": string | null,"deletion_seen_at": string | null,"is_deleted": boolean,"is_qualified": boolean,"lead_id": number | null,"main_contact_id": number | null,"name": string | null,"pipeline_id": number | null,"price": number | null,"qualified_at": string | null,"responsible_user_id": number | null,"stale_api_reads": number,"state_tiebreak": string,"status_id": number | null,"updated_at": string,"user_account_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "amocrm_created_at"?: string | null,"amocrm_lead_id": number,"amocrm_updated_at"?: string | null,"api_closed_at"?: string | null,"api_pipeline_id"?: number | null,"api_price"?: number | null,"api_status_id"?: number | null,"api_updated_at"?: string | null,"attribution"?: string | null,"closed_at"?: string | null,"contact_phone_e164"?: string | null,"created_at"?: string,"deleted_at"?: string | null,"deletion_seen_at"?: string | null,"is_deleted"?: boolean,"is_qualified"?: boolean,"lead_id"?: number | null,"main_contact_id"?: number | null,"name"?: string | null,"pipeline_id"?: number | null,"price"?: number | null,"qualified_at"?: string | null,"responsible_user_id"?: number | null,"stale_api_reads"?: number,"state_tiebreak"?: string,"status_id"?: number | null,"updated_at"?: string,"user_account_id": string
                  }
                  Update: {
                    "amocrm_created_at"?: string | null,"amocrm_lead_id"?: number,"amocrm_updated_at"?: string | null,"api_closed_at"?: string | null,"api_pipeline_id"?: number | null,"api_price"?: number | null,"api_status_id"?: number | null,"api_updated_at"?: string | null,"attribution"?: string | null,"closed_at"?: string | null,"contact_phone_e164"?: string | null,"created_at"?: string,"deleted_at"?: string | null,"deletion_seen_at"?: string | null,"is_deleted"?: boolean,"is_qualified"?: boolean,"lead_id"?: number | null,"main_contact_id"?: number | null,"name"?: string | null,"pipeline_id"?: number | null,"price"?: number | null,"qualified_at"?: string | null,"responsible_user_id"?: number | null,"stale_api_reads"?: number,"state_tiebreak"?: string,"status_id"?: number | null,"updated_at"?: string,"user_account_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "amocrm_deals_lead_same_account_fkey"
      columns: ["lead_id","user_account_id"]
isOneToOne: false
      referencedRelation: "leads"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "amocrm_deals_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_deals_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_deals_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_deals_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_deals_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_deals_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"amocrm_lead_status_history": {
                  Row: {
                    "amocrm_lead_id": number | null,"changed_at": string | null,"created_at": string,"event_key": string | null,"from_pipeline_id": number | null,"from_status_id": number | null,"id": string,"lead_id": number | null,"source": string,"to_pipeline_id": number | null,"to_status_id": number | null,"user_account_id": string | null,"webhook_data": Json | null
                  }
                  ComputedFields: never
                  Insert: {
                    "amocrm_lead_id"?: number | null,"changed_at"?: string | null,"created_at"?: string,"event_key"?: string | null,"from_pipeline_id"?: number | null,"from_status_id"?: number | null,"id"?: string,"lead_id"?: number | null,"source"?: string,"to_pipeline_id"?: number | null,"to_status_id"?: number | null,"user_account_id"?: string | null,"webhook_data"?: Json | null
                  }
                  Update: {
                    "amocrm_lead_id"?: number | null,"changed_at"?: string | null,"created_at"?: string,"event_key"?: string | null,"from_pipeline_id"?: number | null,"from_status_id"?: number | null,"id"?: string,"lead_id"?: number | null,"source"?: string,"to_pipeline_id"?: number | null,"to_status_id"?: number | null,"user_account_id"?: string | null,"webhook_data"?: Json | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "amocrm_lead_status_history_lead_same_account_fkey"
      columns: ["lead_id","user_account_id"]
isOneToOne: false
      referencedRelation: "leads"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "amocrm_lead_status_history_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_lead_status_history_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_lead_status_history_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_lead_status_history_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_lead_status_history_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_lead_status_history_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"amocrm_pipeline_stages": {
                  Row: {
                    "archived_at": string | null,"created_at": string,"id": string,"is_archived": boolean,"is_qualified_stage": boolean | null,"pipeline_id": number,"pipeline_name": string,"sort_order": number | null,"status_color": string | null,"status_id": number,"status_name": string,"status_type": number | null,"synced_at": string | null,"updated_at": string,"user_account_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "archived_at"?: string | null,"created_at"?: string,"id"?: string,"is_archived"?: boolean,"is_qualified_stage"?: boolean | null,"pipeline_id": number,"pipeline_name": string,"sort_order"?: number | null,"status_color"?: string | null,"status_id": number,"status_name": string,"status_type"?: number | null,"synced_at"?: string | null,"updated_at"?: string,"user_account_id": string
                  }
                  Update: {
                    "archived_at"?: string | null,"created_at"?: string,"id"?: string,"is_archived"?: boolean,"is_qualified_stage"?: boolean | null,"pipeline_id"?: number,"pipeline_name"?: string,"sort_order"?: number | null,"status_color"?: string | null,"status_id"?: number,"status_name"?: string,"status_type"?: number | null,"synced_at"?: string | null,"updated_at"?: string,"user_account_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "amocrm_pipeline_stages_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_pipeline_stages_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_pipeline_stages_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_pipeline_stages_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_pipeline_stages_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "amocrm_pipeline_stages_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"creatives": {
                  Row: {
                    "created_at": string,"direction_id": string | null,"id": string,"name": string | null,"updated_at": string,"user_account_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"direction_id"?: string | null,"id"?: string,"name"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Update: {
                    "created_at"?: string,"direction_id"?: string | null,"id"?: string,"name"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "creatives_direction_id_fkey"
      columns: ["direction_id"]
isOneToOne: false
      referencedRelation: "directions"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "creatives_direction_same_account_fkey"
      columns: ["direction_id","user_account_id"]
isOneToOne: false
      referencedRelation: "directions"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "creatives_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "creatives_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "creatives_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "creatives_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "creatives_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "creatives_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"currency_rates": {
                  Row: {
                    "created_at": string,"from_currency": string,"rate": number,"rate_date": string,"to_currency": string,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"from_currency": string,"rate": number,"rate_date": string,"to_currency": string,"updated_at"?: string
                  }
                  Update: {
                    "created_at"?: string,"from_currency"?: string,"rate"?: number,"rate_date"?: string,"to_currency"?: string,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                },"directions": {
                  Row: {
                    "created_at": string,"id": string,"name": string | null,"updated_at": string,"user_account_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"id"?: string,"name"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Update: {
                    "created_at"?: string,"id"?: string,"name"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "directions_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "directions_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "directions_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "directions_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "directions_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "directions_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"leads": {
                  Row: {
                    "amocrm_contact_id": number | null,"amocrm_lead_id": number | null,"chat_id": string | null,"created_at": string,"creative_id": string | null,"current_pipeline_id": number | null,"current_status_id": number | null,"direction_id": string | null,"id": number,"is_qualified": boolean | null,"phone": string | null,"phone_e164": string | null,"updated_at": string,"user_account_id": string | null,"utm_campaign": string | null,"utm_content": string | null,"utm_medium": string | null,"utm_source": string | null,"utm_term": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "amocrm_contact_id"?: number | null,"amocrm_lead_id"?: number | null,"chat_id"?: string | null,"created_at"?: string,"creative_id"?: string | null,"current_pipeline_id"?: number | null,"current_status_id"?: number | null,"direction_id"?: string | null,"id"?: number,"is_qualified"?: boolean | null,"phone"?: string | null,"phone_e164"?: string | null,"updated_at"?: string,"user_account_id"?: string | null,"utm_campaign"?: string | null,"utm_content"?: string | null,"utm_medium"?: string | null,"utm_source"?: string | null,"utm_term"?: string | null
                  }
                  Update: {
                    "amocrm_contact_id"?: number | null,"amocrm_lead_id"?: number | null,"chat_id"?: string | null,"created_at"?: string,"creative_id"?: string | null,"current_pipeline_id"?: number | null,"current_status_id"?: number | null,"direction_id"?: string | null,"id"?: number,"is_qualified"?: boolean | null,"phone"?: string | null,"phone_e164"?: string | null,"updated_at"?: string,"user_account_id"?: string | null,"utm_campaign"?: string | null,"utm_content"?: string | null,"utm_medium"?: string | null,"utm_source"?: string | null,"utm_term"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "leads_creative_id_fkey"
      columns: ["creative_id"]
isOneToOne: false
      referencedRelation: "creatives"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "leads_creative_same_account_fkey"
      columns: ["creative_id","user_account_id"]
isOneToOne: false
      referencedRelation: "creatives"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "leads_direction_id_fkey"
      columns: ["direction_id"]
isOneToOne: false
      referencedRelation: "directions"
      referencedColumns: ["id"]
    },{
      foreignKeyName: "leads_direction_same_account_fkey"
      columns: ["direction_id","user_account_id"]
isOneToOne: false
      referencedRelation: "directions"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "leads_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "leads_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "leads_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "leads_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "leads_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "leads_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"purchases": {
                  Row: {
                    "amocrm_deal_id": number | null,"amount": number | null,"client_phone": string | null,"client_phone_e164": string | null,"created_at": string,"id": string,"purchase_date": string | null,"updated_at": string,"user_account_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "amocrm_deal_id"?: number | null,"amount"?: number | null,"client_phone"?: string | null,"client_phone_e164"?: string | null,"created_at"?: string,"id"?: string,"purchase_date"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Update: {
                    "amocrm_deal_id"?: number | null,"amount"?: number | null,"client_phone"?: string | null,"client_phone_e164"?: string | null,"created_at"?: string,"id"?: string,"purchase_date"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "purchases_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "purchases_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "purchases_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "purchases_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "purchases_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "purchases_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"sales": {
                  Row: {
                    "amocrm_deal_id": number | null,"amocrm_pipeline_id": number | null,"amocrm_status_id": number | null,"amount": number | null,"client_phone": string | null,"client_phone_e164": string | null,"closed_at": string | null,"confirmed_at": string | null,"created_at": string,"id": string,"lead_id": number | null,"status": string | null,"updated_at": string,"user_account_id": string | null
                  }
                  ComputedFields: never
                  Insert: {
                    "amocrm_deal_id"?: number | null,"amocrm_pipeline_id"?: number | null,"amocrm_status_id"?: number | null,"amount"?: number | null,"client_phone"?: string | null,"client_phone_e164"?: string | null,"closed_at"?: string | null,"confirmed_at"?: string | null,"created_at"?: string,"id"?: string,"lead_id"?: number | null,"status"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Update: {
                    "amocrm_deal_id"?: number | null,"amocrm_pipeline_id"?: number | null,"amocrm_status_id"?: number | null,"amount"?: number | null,"client_phone"?: string | null,"client_phone_e164"?: string | null,"closed_at"?: string | null,"confirmed_at"?: string | null,"created_at"?: string,"id"?: string,"lead_id"?: number | null,"status"?: string | null,"updated_at"?: string,"user_account_id"?: string | null
                  }
                  Relationships: [
                    {
      foreignKeyName: "sales_lead_same_account_fkey"
      columns: ["lead_id","user_account_id"]
isOneToOne: false
      referencedRelation: "leads"
      referencedColumns: ["id","user_account_id"]
    },{
      foreignKeyName: "sales_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "sales_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "sales_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "sales_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "sales_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "sales_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"user_account_members": {
                  Row: {
                    "created_at": string,"role": string,"user_account_id": string,"user_id": string
                  }
                  ComputedFields: never
                  Insert: {
                    "created_at"?: string,"role"?: string,"user_account_id": string,"user_id": string
                  }
                  Update: {
                    "created_at"?: string,"role"?: string,"user_account_id"?: string,"user_id"?: string
                  }
                  Relationships: [
                    {
      foreignKeyName: "user_account_members_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "account_revenue_totals"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "user_account_members_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "creative_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "user_account_members_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "direction_funnel_stats"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "user_account_members_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_durations"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "user_account_members_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "pipeline_stage_funnel"
      referencedColumns: ["user_account_id"]
    },{
      foreignKeyName: "user_account_members_user_account_id_fkey"
      columns: ["user_account_id"]
isOneToOne: false
      referencedRelation: "user_accounts"
      referencedColumns: ["id"]
    }
                  ]
                },"user_accounts": {
                  Row: {
                    "analytics_timezone": string | null,"created_at": string,"default_phone_country": string,"id": string,"name": string | null,"updated_at": string
                  }
                  ComputedFields: never
                  Insert: {
                    "analytics_timezone"?: string | null,"created_at"?: string,"default_phone_country"?: string,"id"?: string,"name"?: string | null,"updated_at"?: string
                  }
                  Update: {
                    "analytics_timezone"?: string | null,"created_at"?: string,"default_phone_country"?: string,"id"?: string,"name"?: string | null,"updated_at"?: string
                  }
                  Relationships: [
                    
                  ]
                }
          }
          Views: {
            "account_revenue_totals": {
                  Row: {
                    "amocrm_won_amount": number | null,"amocrm_won_awaiting_confirmation": number | null,"amocrm_won_deals": number | null,"amocrm_won_unattributed_deals": number | null,"attributed_paid_sales": number | null,"attributed_revenue": number | null,"paid_revenue": number | null,"paid_sales": number | null,"product_purchases_revenue": number | null,"repeat_revenue": number | null,"unattributed_paid_sales": number | null,"unattributed_revenue": number | null,"unreconciled_revenue": number | null,"user_account_id": string
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"amocrm_connection_status": {
                  Row: {
                    "access_token_expires_at": string | null,"breaker_cooldown_until": string | null,"breaker_open": boolean | null,"breaker_reason": string | null,"dead_job_errors": (string)[] | null,"dead_jobs": number | null,"last_pipeline_sync_at": string | null,"last_reconcile_at": string | null,"last_reconcile_healed": number | null,"last_webhook_at": string | null,"pending_jobs": number | null,"quarantined_events": number | null,"state": string | null,"state_reason": string | null,"subdomain": string | null,"token_kind": string | null,"token_refreshed_at": string | null,"user_account_id": string | null,"webhook_checked_at": string | null,"webhook_disabled_seen_at": string | null,"webhook_repaired_at": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"creative_funnel_stats": {
                  Row: {
                    "conversion_rate": number | null,"conversions": number | null,"cost_currency": string | null,"cost_spend": number | null,"cpa": number | null,"cpl": number | null,"cpql": number | null,"creative_id": string | null,"creative_name": string | null,"direction_id": string | null,"direction_name": string | null,"leads": number | null,"paid_sales": number | null,"qualification_rate": number | null,"qualified_leads": number | null,"repeat_revenue": number | null,"revenue": number | null,"roi": number | null,"roi_null_reason": string | null,"spend": number | null,"spend_currency": string | null,"user_account_id": string
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"direction_funnel_stats": {
                  Row: {
                    "conversion_rate": number | null,"conversions": number | null,"cost_currency": string | null,"cost_spend": number | null,"cpa": number | null,"cpl": number | null,"cpql": number | null,"direction_id": string | null,"direction_name": string | null,"leads": number | null,"paid_sales": number | null,"qualification_rate": number | null,"qualified_leads": number | null,"repeat_revenue": number | null,"revenue": number | null,"roi": number | null,"roi_null_reason": string | null,"spend": number | null,"spend_currency": string | null,"user_account_id": string
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"pipeline_stage_durations": {
                  Row: {
                    "avg_hours": number | null,"completed_visits": number | null,"median_hours": number | null,"open_visits": number | null,"pipeline_id": number | null,"pipeline_name": string | null,"sort_order": number | null,"status_id": number | null,"status_name": string | null,"user_account_id": string
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"pipeline_stage_funnel": {
                  Row: {
                    "is_qualified_stage": boolean | null,"leads_entered": number | null,"leads_in_stage": number | null,"leads_reached": number | null,"pipeline_id": number | null,"pipeline_name": string | null,"reached_rate": number | null,"sort_order": number | null,"status_id": number | null,"status_name": string | null,"step_rate": number | null,"user_account_id": string
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                },"unattributed_revenue": {
                  Row: {
                    "amocrm_deal_id": number | null,"amount": number | null,"client_phone_e164": string | null,"closed_at": string | null,"deal_name": string | null,"pipeline_id": number | null,"sale_day": string | null,"source": string | null,"user_account_id": string | null
                  }
                  ComputedFields: never
                  Relationships: [
                    
                  ]
                }
          }
          Functions: {
            "creative_funnel":
{ Args: { "p_basis"?: string,"p_direction_id"?: string,"p_from"?: string,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "conversion_rate": number,"conversions": number,"cost_currency": string,"cost_spend": number,"cpa": number,"cpl": number,"cpql": number,"creative_id": string,"creative_name": string,"direction_id": string,"direction_name": string,"leads": number,"paid_sales": number,"qualification_rate": number,"qualified_leads": number,"repeat_revenue": number,"revenue": number,"roi": number,"roi_null_reason": string,"spend": number,"spend_currency": string
            }[]
                           },
"direction_funnel":
{ Args: { "p_basis"?: string,"p_direction_id"?: string,"p_from"?: string,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "conversion_rate": number,"conversions": number,"cost_currency": string,"cost_spend": number,"cpa": number,"cpl": number,"cpql": number,"direction_id": string,"direction_name": string,"leads": number,"paid_sales": number,"qualification_rate": number,"qualified_leads": number,"repeat_revenue": number,"revenue": number,"roi": number,"roi_null_reason": string,"spend": number,"spend_currency": string
            }[]
                           },
"funnel_daily":
{ Args: { "p_basis"?: string,"p_creative_id"?: string,"p_direction_id"?: string,"p_from"?: string,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "conversion_rate": number,"conversions": number,"cost_currency": string,"cost_spend": number,"cpa": number,"cpl": number,"cpql": number,"day": string,"leads": number,"paid_sales": number,"qualification_rate": number,"qualified_leads": number,"repeat_revenue": number,"revenue": number,"roi": number,"roi_null_reason": string,"spend": number,"spend_currency": string
            }[]
                           },
"qualification_stats":
{ Args: { "p_direction_id"?: string,"p_user_account_id": string }; Returns: {
              "conversion_rate": number,"conversions": number,"creative_id": string,"creative_name": string,"leads": number,"qualification_rate": number,"qualified_leads": number
            }[]
                           },
"request_pipeline_sync":
{ Args: { "p_user_account_id": string }; Returns: number
                           },
"revenue_totals":
{ Args: { "p_from"?: string,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "amocrm_won_amount": number,"amocrm_won_deals": number,"attributed_paid_sales": number,"attributed_revenue": number,"currency": string,"paid_revenue": number,"paid_sales": number,"unattributed_paid_sales": number,"unattributed_revenue": number,"unreconciled_revenue": number,"user_account_id": string
            }[]
                           },
"stage_durations":
{ Args: { "p_creative_id"?: string,"p_direction_id"?: string,"p_from"?: string,"p_pipeline_id"?: number,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "avg_hours": number,"completed_visits": number,"median_hours": number,"open_visits": number,"pipeline_id": number,"pipeline_name": string,"sort_order": number,"status_id": number,"status_name": string
            }[]
                           },
"stage_funnel":
{ Args: { "p_creative_id"?: string,"p_direction_id"?: string,"p_from"?: string,"p_pipeline_id"?: number,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "is_qualified_stage": boolean,"leads_entered": number,"leads_in_stage": number,"leads_reached": number,"pipeline_id": number,"pipeline_name": string,"reached_rate": number,"sort_order": number,"status_id": number,"status_name": string,"step_rate": number
            }[]
                           },
"time_to_sale":
{ Args: { "p_basis"?: string,"p_direction_id"?: string,"p_from"?: string,"p_per"?: string,"p_to"?: string,"p_user_account_id": string }; Returns: {
              "converted_leads": number,"creative_id": string,"creative_name": string,"direction_id": string,"direction_name": string,"time_to_sale_days": number
            }[]
                           }
          }
          Enums: {
            [_ in never]: never
          }
          CompositeTypes: {
            [_ in never]: never
          }
        }
}

type DatabaseWithoutInternals = Omit<Database, '__InternalSupabase'>

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
  ? (DefaultSchema["Tables"] & DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
      Row: infer R
    }
    ? R
    : never
  : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Insert: infer I
    }
    ? I
    : never
  : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never = never
> = DefaultSchemaTableNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
  ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
      Update: infer U
    }
    ? U
    : never
  : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never = never
> = DefaultSchemaEnumNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
  ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
  : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never = never
> = PublicCompositeTypeNameOrOptions extends { schema: keyof DatabaseWithoutInternals }
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
  ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
  : never

export const Constants = {
  "public": {
          Enums: {
            
          }
        }
} as const
