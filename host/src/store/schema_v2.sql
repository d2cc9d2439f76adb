-- Schema version 2: indexes. Month queries filter by period, then kind and/or state.
CREATE INDEX invoices_period_kind_state ON invoices (period, kind, state);
CREATE INDEX invoices_period_state ON invoices (period, state);
CREATE INDEX invoices_state ON invoices (state) WHERE state IN ('pending', 'issued');
CREATE UNIQUE INDEX invoices_code_number ON invoices (code, number) WHERE code IS NOT NULL;
CREATE INDEX customers_taxpayer ON customers (taxpayer_id);
CREATE INDEX customers_category ON customers (category_id);
CREATE INDEX products_name ON products (name);
CREATE INDEX red_forms_state ON red_forms (state);
CREATE INDEX audit_at ON audit (at);
