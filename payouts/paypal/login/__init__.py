"""allauth's PayPal provider pointed at configurable base URLs (settings.PAYPAL_API_BASE_URL / _WEB_BASE_URL).

allauth builds this provider's URLs from `<package>.urls` and `<package>.views`, the layout of its own
providers; settings.SOCIALACCOUNT_PROVIDERS["paypal"]["provider_class"] names our subclass.
"""
