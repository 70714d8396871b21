from relief.models.advance import (
    Advance,
    AdvanceShortfall,
    AdvanceState,
    ShortfallCause,
    VerificationBasis,
)
from relief.models.application import Application, ApplicationState, ReferenceCounter
from relief.models.audit import AuditEntry
from relief.models.batches import OPEN_BATCH_STATES, BatchItem, BatchState, PaymentBatch
from relief.models.calendar import WorkingDayCorrection
from relief.models.disbursement import Disbursement, FundSource, PaymentMethod
from relief.models.donations import DonationCampaign, DonationCollection, Donor
from relief.models.funds import FundAccount, FundIncome
from relief.models.hardship_file import HardshipFile
from relief.models.idempotency import IdempotencyKey
from relief.models.meeting import Decision, ReviewDecision, ReviewMeeting
from relief.models.notice import (
    NoticeItem,
    Objection,
    ObjectionChannel,
    ObjectionOutcome,
    PublicNotice,
)
from relief.models.policy import HardshipCategory, Policy
from relief.models.proposed_change import ProposalStatus, ProposedChange
from relief.models.queue import QueueSeen
from relief.models.totals import MonthlyPerson, MonthlyTotal, PersonCount
from relief.models.visit import Attachment, FollowUp, HomeVisit
from relief.models.worker import HouseholdMember, Worker

__all__ = [
    "OPEN_BATCH_STATES",
    "Advance",
    "AdvanceShortfall",
    "AdvanceState",
    "Application",
    "ApplicationState",
    "Attachment",
    "AuditEntry",
    "BatchItem",
    "BatchState",
    "Decision",
    "Disbursement",
    "DonationCampaign",
    "DonationCollection",
    "Donor",
    "FollowUp",
    "FundAccount",
    "FundIncome",
    "FundSource",
    "HardshipCategory",
    "HardshipFile",
    "HomeVisit",
    "HouseholdMember",
    "IdempotencyKey",
    "MonthlyPerson",
    "MonthlyTotal",
    "NoticeItem",
    "Objection",
    "ObjectionChannel",
    "ObjectionOutcome",
    "PaymentBatch",
    "PaymentMethod",
    "PersonCount",
    "Policy",
    "ProposalStatus",
    "ProposedChange",
    "PublicNotice",
    "QueueSeen",
    "ReferenceCounter",
    "ReviewDecision",
    "ReviewMeeting",
    "ShortfallCause",
    "VerificationBasis",
    "Worker",
    "WorkingDayCorrection",
]
