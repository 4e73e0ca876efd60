from django.urls import path

from . import views

app_name = "drivers"

urlpatterns = [
    path("s/<str:token>/", views.status_page, name="status"),
    path("<str:code>/review/", views.review_page, name="review"),
    path("<str:code>/", views.report_page, name="report"),
]
