from relief.models.application import Application, ApplicationState, ReferenceCounter
from relief.models.audit import AuditEntry
from relief.models.disbursement import Disbursement, FundSource, PaymentMethod
from relief.models.meeting import Decision, ReviewDecision, ReviewMeeting
from relief.models.policy import HardshipCategory, Policy
from relief.models.visit import Attachment, FollowUp, HomeVisit
from relief.models.worker import HouseholdMember, Worker

__all__ = [
    "Application",
    "ApplicationState",
    "Attachment",
    "AuditEntry",
    "Decision",
    "Disbursement",
    "FollowUp",
    "FundSource",
    "HardshipCategory",
    "HomeVisit",
    "HouseholdMember",
    "PaymentMethod",
    "Policy",
    "ReferenceCounter",
    "ReviewDecision",
    "ReviewMeeting",
    "Worker",
]
