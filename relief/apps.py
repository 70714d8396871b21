from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReliefConfig(AppConfig):
    name = "relief"
    verbose_name = _("Temporary relief")

    _reading = [
        "relief.view_application",
        "relief.view_worker",
        "relief.view_householdmember",
        "relief.view_homevisit",
        "relief.view_attachment",
        "relief.view_disbursement",
        "relief.view_followup",
        "relief.view_auditentry",
        "relief.view_policy",
        "relief.view_hardshipcategory",
        "relief.view_reviewmeeting",
        "relief.view_reviewdecision",
        "relief.view_workingdaycorrection",
        "relief.view_publicnotice",
        "relief.view_noticeitem",
        "relief.view_objection",
        "relief.view_advance",
        "relief.view_advanceshortfall",
    ]
    # Money (relief.admin.funds): the services check roles again; these only open the pages.
    _funds_reading = [
        "relief.view_fundaccount",
        "relief.view_fundincome",
        "relief.view_donationcampaign",
        "relief.view_donationcollection",
        "relief.view_hardshipfile",
        "relief.view_disbursement",
        "relief.view_donor",
    ]
    _town_funds = [
        "relief.add_fundincome",
        "relief.add_donationcampaign",
        "relief.add_donationcollection",
        "relief.add_hardshipfile",
    ]
    _district_funds = [
        "relief.add_fundincome",
        "relief.add_donationcampaign",
        "relief.add_donationcollection",
        "relief.add_disbursement",
        "relief.view_paymentbatch",
        "relief.add_paymentbatch",
        "relief.view_batchitem",
    ]
    # What the admin offers beyond reading is decided by role and state (relief.workflow),
    # not by these permissions; full ID numbers are the one exception: a permission, given to
    # the district (who pays to real-name cards) and grantable to other groups by an admin.
    role_permissions = {
        # Notices and objections: opened and recorded by the town (relief.admin.notices).
        "town_reviewer": [
            *_reading,
            *_funds_reading,
            *_town_funds,
            "relief.add_publicnotice",
            "relief.add_objection",
        ],
        "district_officer": [
            *_reading,
            *_funds_reading,
            *_district_funds,
            "relief.view_full_id_number",
            # The district keeps the working-day calendar (announced holidays, 调休).
            "relief.add_workingdaycorrection",
            "relief.change_workingdaycorrection",
            "relief.delete_workingdaycorrection",
        ],
    }

    def ready(self):
        from relief.admin import funds  # noqa: F401  (registers the money admin)
