from django.urls import path

from casework.cases import intake, recording, views

urlpatterns = [
    path("", views.my_cases, name="my-cases"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/documents/", views.documents, name="case-documents"),
    path("cases/<int:case_id>/record/", recording.record, name="case-record"),
    path("team/", views.team_work, name="team-work"),
    path("team/cases/", views.team_cases, name="team-cases"),
    path("people/search/", intake.search, name="person-search"),
    path("people/new/", intake.new_person, name="person-new"),
    path("referrals/new/", intake.new_referral, name="referral-new"),
]
