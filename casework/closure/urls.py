"""Closure screens. Every case-scoped URL takes only `case_id` (which step, form, checklist
or gate is in the query string), so the access sweep in casework/access/tests reaches them
all and proves each is a 404 to a user with no need to know."""

from django.urls import path

from casework.closure import views

urlpatterns = [
    path("cases/<int:case_id>/closure/", views.tasks, name="closure-tasks"),
    path("cases/<int:case_id>/closure/propose/", views.propose, name="closure-propose"),
    path("cases/<int:case_id>/closure/decision/", views.decide, name="closure-decide"),
    path(
        "cases/<int:case_id>/closure/further-actions/",
        views.further_actions,
        name="closure-further-actions",
    ),
    path("cases/<int:case_id>/closure/withdraw/", views.withdraw, name="closure-withdraw"),
    path("cases/<int:case_id>/closure/finish/", views.finish, name="closure-finish"),
    path("cases/<int:case_id>/closure/step/", views.step, name="closure-step"),
    path("cases/<int:case_id>/closure/form/", views.form_page, name="closure-form"),
    path("cases/<int:case_id>/closure/form/check/", views.form_check, name="closure-form-check"),
    path(
        "cases/<int:case_id>/closure/form/autosave/",
        views.form_autosave,
        name="closure-form-autosave",
    ),
    path("cases/<int:case_id>/closure/checklist/", views.checklist, name="closure-checklist"),
    path("cases/<int:case_id>/closure/agreement/", views.agreement, name="closure-agreement"),
    path("cases/<int:case_id>/closure/authorise/", views.authorise, name="closure-authorise"),
    path("cases/<int:case_id>/closure/sign/", views.sign, name="closure-sign"),
    path(
        "cases/<int:case_id>/closure/signed-summary.pdf",
        views.signed_pdf,
        name="closure-pdf",
    ),
    path("cases/<int:case_id>/closure/share/", views.share, name="closure-share"),
    path("closures/queue/", views.queue, name="closure-queue"),
]
