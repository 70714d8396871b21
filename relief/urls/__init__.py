from django.urls import path

from relief.views import attachments, cases, home, intake, visits

app_name = "relief"

urlpatterns = [
    path("todo/seen/", home.queue_seen, name="queue_seen"),
    path("cases/", cases.case_list, name="case_list"),
    path("cases/new/", intake.case_new, name="case_new"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", intake.case_edit, name="case_edit"),
    path("cases/<int:pk>/submit/", cases.case_submit, name="case_submit"),
    path("cases/<int:pk>/resubmit/", cases.case_resubmit, name="case_resubmit"),
    path("cases/<int:pk>/withdraw/", cases.case_withdraw, name="case_withdraw"),
    path("cases/<int:pk>/visit/", visits.visit_new, name="visit_new"),
    path("cases/<int:pk>/attachments/", attachments.attachment_add, name="attachment_add"),
    path("attachments/<int:pk>/", attachments.attachment_download, name="attachment_download"),
]
