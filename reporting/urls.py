from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("attachments/<int:pk>/", views.report_attachment_download, name="attachment"),
]
