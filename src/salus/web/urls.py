"""URLs of the staff web app. Names are prefixed ``web-``; client and record ids are UUIDs."""

from django.urls import include, path

from salus.web.views import clients, duplicates, home, ost, referrals, stock

urlpatterns = [
    path("", home.home, name="web-home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("clients/find/", clients.find_client, name="web-client-find"),
    path("clients/register/", clients.register_contact, name="web-client-register"),
    path("clients/duplicates/", duplicates.duplicate_list, name="web-duplicates"),
    path("clients/duplicates/merge/", duplicates.duplicate_merge, name="web-duplicate-merge"),
    path("clients/duplicates/dismiss/", duplicates.duplicate_dismiss, name="web-duplicate-dismiss"),
    path("clients/<uuid:client_id>/", clients.client_page, name="web-client"),
    path("clients/<uuid:client_id>/contact/", clients.record_contact, name="web-contact-new"),
    path("clients/<uuid:client_id>/ost/", ost.ost_start, name="web-ost-start"),
    path("clients/<uuid:client_id>/overdose/", ost.overdose_new, name="web-overdose-new"),
    path("ost/<uuid:episode_id>/dose/", ost.ost_dose, name="web-ost-dose"),
    path("ost/<uuid:episode_id>/end/", ost.ost_end, name="web-ost-end"),
    path("referrals/", referrals.referral_list, name="web-referrals"),
    path("referrals/<uuid:referral_id>/", referrals.referral_update, name="web-referral-update"),
    path("stock/", stock.stock_levels, name="web-stock"),
    path("stock/movement/", stock.stock_movement, name="web-stock-movement"),
]
