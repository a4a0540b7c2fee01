"""Transfer, pathway and re-referral screens. Every case-scoped URL takes only `case_id`
(which pathway or request is meant goes in the query string), so the access sweep in
casework/access/tests reaches them all."""

from django.urls import path

from casework.transfers import views

urlpatterns = [
    path("cases/<int:case_id>/transfer/", views.tasks, name="transfer-tasks"),
    path("cases/<int:case_id>/transfer/request/", views.request_transfer, name="transfer-request"),
    path("cases/<int:case_id>/transfer/discussion/", views.discuss, name="transfer-discuss"),
    path("cases/<int:case_id>/transfer/summary/", views.summary, name="transfer-summary"),
    path("cases/<int:case_id>/transfer/audit/", views.audit, name="transfer-audit"),
    path("cases/<int:case_id>/transfer/authorise/", views.authorise, name="transfer-authorise"),
    path("cases/<int:case_id>/transfer/decision/", views.decide, name="transfer-decide"),
    path("cases/<int:case_id>/transfer/complete/", views.complete, name="transfer-complete"),
    path("cases/<int:case_id>/transfer/withdraw/", views.withdraw, name="transfer-withdraw"),
    path("cases/<int:case_id>/pathway/", views.pathway_start, name="pathway-start"),
    path("cases/<int:case_id>/pathway/decision/", views.pathway_decision, name="pathway-decide"),
    path("cases/<int:case_id>/pathway/close/", views.pathway_close, name="pathway-close"),
    path(
        "cases/<int:case_id>/pathway/placement-notification.pdf",
        views.placement_letter,
        name="placement-letter",
    ),
    path("cases/<int:case_id>/re-referral/", views.re_referral, name="re-referral"),
    path("transfers/queue/", views.queue, name="transfer-queue"),
    path("registers/out-of-area-placements/", views.register, name="placement-register"),
]
