-- 0009 who may do what with disbursement (DESIGN section 8), as 0004.
--
-- Personal data (household_private) is read in the office only: not by
-- earmark_auditor, whose exports mask it anyway, and never by
-- earmark_public.  Staged batch rows are written by COPY, so clerks insert
-- into pay_staging but cannot read it (a trigger stamps each row with its
-- writer; earmark.pay_batch takes only the caller's own).

GRANT SELECT ON earmark.line_coded, earmark.book_setting, earmark.fund_category,
	earmark.negative_list, earmark.negative_item, earmark.household_cap, earmark.project_village,
	earmark.project_target, earmark.project_budget, earmark.budget_revision, earmark.project_event,
	earmark.project_spend, earmark.household_spend, earmark.beneficiary_list, earmark.beneficiary,
	earmark.objection, earmark.project_claim, earmark.pay_batch, earmark.household_payment,
	earmark.constraint_message
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;
GRANT SELECT ON earmark.household_private
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin;
GRANT INSERT ON earmark.pay_staging TO earmark_clerk;

GRANT EXECUTE ON FUNCTION earmark.mask_id(text), earmark.mask_name(text), earmark.mask_card(text),
	earmark.mask_phone(text), earmark.id_problem(text, date), earmark.id_upgrade(text),
	earmark.setting(integer, text), earmark.fmt_pct(numeric), earmark.budget_on(integer, integer, integer, date),
	earmark.interest_shares(integer, integer, date, bigint), earmark.constraint_text(text)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;

GRANT EXECUTE ON FUNCTION earmark.list_create(text, text, text, text, jsonb),
	earmark.pay_stage_new(), earmark.pay_batch(text, bigint, text, date, text, text),
	earmark.project_claim(text, text, text, bigint, date, jsonb, text),
	earmark.fund_interest(text, text, date, bigint, text),
	earmark.objection_record(text, text, text, date, text),
	earmark.master_import(text, text, jsonb)
	TO earmark_clerk;
GRANT EXECUTE ON FUNCTION earmark.list_publish(text, text, date, integer),
	earmark.objection_record(text, text, text, date, text),
	earmark.objection_resolve(text, integer, date, text)
	TO earmark_admin;
GRANT EXECUTE ON FUNCTION earmark.pay_batch_step(text, text, text) TO earmark_reviewer, earmark_bookkeeper;
GRANT EXECUTE ON FUNCTION earmark.payment_export(text, text), earmark.payment_settle(text, text, text)
	TO earmark_cashier;
