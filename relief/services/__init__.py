"""The one write path: every state change and money movement of a case goes through here.

Each function locks the row, checks scope (404) and role (403), runs the transition or the
change, saves, and writes the audit record, all in one transaction.
"""

from relief.services.advances import advance_cancel, advance_grant, advance_pay
from relief.services.applications import (
    application_approve,
    application_close,
    application_create,
    application_recommend,
    application_reject,
    application_resubmit,
    application_return,
    application_return_verified,
    application_send_back,
    application_submit,
    application_update,
    application_verify,
    application_withdraw,
)
from relief.services.batches import (
    batch_cancel,
    batch_create,
    batch_export,
    batch_mark_paid,
)
from relief.services.disbursements import disbursement_record, disbursement_reverse
from relief.services.donations import donation_campaign_create, donation_collection_record
from relief.services.funds import fund_income_record
from relief.services.hardship_files import hardship_file_close, hardship_file_reopen
from relief.services.ledger import ledger_import
from relief.services.meetings import review_meeting_record
from relief.services.payout_accounts import payout_account_change
from relief.services.proposals import application_propose
from relief.services.visits import (
    attachment_add,
    follow_up_record,
    home_visit_record,
    home_visit_record_with_files,
)
from relief.services.workers import (
    household_replace,
    worker_create,
    worker_transfer,
    worker_update,
)

__all__ = [
    "advance_cancel",
    "advance_grant",
    "advance_pay",
    "application_approve",
    "application_close",
    "application_create",
    "application_propose",
    "application_recommend",
    "application_reject",
    "application_resubmit",
    "application_return",
    "application_return_verified",
    "application_send_back",
    "application_submit",
    "application_update",
    "application_verify",
    "application_withdraw",
    "attachment_add",
    "batch_cancel",
    "batch_create",
    "batch_export",
    "batch_mark_paid",
    "disbursement_record",
    "disbursement_reverse",
    "donation_campaign_create",
    "donation_collection_record",
    "follow_up_record",
    "fund_income_record",
    "hardship_file_close",
    "hardship_file_reopen",
    "home_visit_record",
    "home_visit_record_with_files",
    "household_replace",
    "ledger_import",
    "payout_account_change",
    "review_meeting_record",
    "worker_create",
    "worker_transfer",
    "worker_update",
]
