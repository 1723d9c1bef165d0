from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from . import second_factor
from .forms import LoginForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        """The right password: signed in at once, or asked for a code first if the user has a second factor."""
        user = form.get_user()
        if second_factor.has_device(user):
            second_factor.pending_start(self.request, user, self.get_success_url())
            return redirect("login_code")
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """Signing out also tells the browser to drop what it cached and stored for this site (ASVS 5.0 V14.3.1)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every signed-in user changes their own password with the current one (ASVS 5.0 V6.2.2, V6.2.3); the
    session stays, every other session of the user ends (Django's session hash changes with the password)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed; your other sessions are signed out."))
        return response
