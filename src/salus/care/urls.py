"""URLs of person-centred care, mounted at /care/."""

from django.urls import path

from salus.care import views

urlpatterns = [
    path("clients/<uuid:client_id>/", views.client_care, name="care-client"),
    path("clients/<uuid:client_id>/naloxone/", views.naloxone_offer, name="care-naloxone-offer"),
    path("clients/<uuid:client_id>/goals/", views.goal_add, name="care-goal-add"),
    path("goals/<uuid:goal_id>/events/", views.goal_event, name="care-goal-event"),
    path("goals/<uuid:goal_id>/set-aside/", views.goal_set_aside, name="care-goal-set-aside"),
    path("high-risk/", views.high_risk, name="care-high-risk"),
    path("summary/", views.summary, name="care-summary"),
    path("rights/", views.rights_list, name="care-rights-list"),
    path("rights/new/", views.rights_new, name="care-rights-new"),
    path("rights/advocacy/", views.rights_advocacy, name="care-rights-advocacy"),
    path("rights/<uuid:report_id>/", views.rights_detail, name="care-rights-detail"),
    path("feedback/", views.feedback_list, name="care-feedback-list"),
    path("feedback/respond/", views.feedback_respond, name="care-feedback-respond"),
    path("feedback/<str:site_code>/qr.svg", views.feedback_qr, name="care-feedback-qr"),
    path("feedback/<str:site_code>/poster/", views.feedback_poster, name="care-feedback-poster"),
    path("f/<str:key>/", views.feedback_form, name="care-feedback-form"),
    path("language/check/", views.language_check, name="care-language-check"),
]
