from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "Enter a correct username and password. Both are case-sensitive; if you have "
            "forgotten your password, ask your administrator to reset it."
        ),
        "inactive": "This account is disabled. Ask your administrator if you need it back.",
    }
