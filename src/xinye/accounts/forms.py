from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form; django-axes counts its failures and locks out after repeated ones."""
