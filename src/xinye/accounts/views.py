from django.contrib.auth import views as auth_views
from django.shortcuts import redirect

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
