"""Site pages that belong to no single app: the home page and the help page."""

from django.shortcuts import redirect, render


def home(request):
    if request.user.is_authenticated:
        return redirect("dashboard")
    return render(request, "home.html")


def help_page(request):
    return render(request, "help.html")
