from django.contrib import admin

from taskscore.accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ("email", "name", "is_active", "is_staff", "date_joined")
    search_fields = ("email", "name")
    # Deactivating a user changes what their memberships grant; it is not done here (the
    # permission cache would keep the old grant until it expires).
    readonly_fields = ("is_active", "password", "last_login")
