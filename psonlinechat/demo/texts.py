"""What the demo shop says, in English and French, and the products it sells.

A real shop keeps these in ``*_lang`` tables; the demo only needs a handful, so they live
here. Every message id exists in every language (a test checks it); a language the demo
does not know falls back to English.
"""

from __future__ import annotations

import dataclasses

FALLBACK = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to content",
        "tagline": "Small things, made well",
        "account": "Account",
        "language": "Language",
        "sign_in": "Sign in",
        "sign_out": "Sign out",
        "hello": "Hello, {name}",
        "home": "Home",
        "home_title": "New this season",
        "home_intro": "Hand-picked goods from small workshops. Questions? Our team answers "
                      "in the chat.",
        "add_to_cart": "Add {product} to cart",
        "price": "Price",
        "login_title": "Sign in to your account",
        "email": "Email",
        "password": "Password",
        "login_failed": "Authentication failed: the email or the password is wrong.",
        "login_invalid": "Please enter your email and your password.",
        "signed_out": "You are signed out.",
        "footer": "A demo of PrestaShop's Online Chat on the shop's own database.",
        "back_office": "Back office",
        "demo_accounts": "Demo account: the email and password are printed by "
                         "the psonlinechat demo command.",
        "bo_login_title": "Back office: sign in",
        "bo_login_intro": "Employees only. The storefront is at {url}.",
        "bo_nav": "Back office",
        "dashboard": "Dashboard",
        "signed_in_as": "Signed in as {name}",
        "bo_welcome": "Welcome, {name}.",
        "bo_chat_title": "Online Chat",
        "bo_chat_intro": "The chat runs on this shop's database. The Online Chat window at "
                         "the bottom right of every back-office page is your console.",
        "bo_try": "Try it",
        "bo_try_steps": "Turn on its Online switch and keep this tab open; in another "
                        "browser, open the storefront, press Chat with us and write: the "
                        "conversation opens here. Offline, the storefront offers a form "
                        "whose mail lands in the demo's outbox folder.",
        "bo_view_shop": "View my shop",
        "bo_shop": "Shop",
        "bo_languages": "Languages",
        "bo_version": "PrestaShop version",
    },
    "fr": {
        "skip": "Aller au contenu",
        "tagline": "De petites choses, bien faites",
        "account": "Compte",
        "language": "Langue",
        "sign_in": "Connexion",
        "sign_out": "Déconnexion",
        "hello": "Bonjour, {name}",
        "home": "Accueil",
        "home_title": "Nouveautés de la saison",
        "home_intro": "Des objets choisis dans de petits ateliers. Une question ? Notre équipe "
                      "vous répond dans le chat.",
        "add_to_cart": "Ajouter {product} au panier",
        "price": "Prix",
        "login_title": "Connectez-vous à votre compte",
        "email": "E-mail",
        "password": "Mot de passe",
        "login_failed": "Échec d'authentification : l'e-mail ou le mot de passe est incorrect.",
        "login_invalid": "Veuillez saisir votre e-mail et votre mot de passe.",
        "signed_out": "Vous êtes déconnecté.",
        "footer": "Une démo du Chat en ligne de PrestaShop sur la base de données de la "
                  "boutique.",
        "back_office": "Back-office",
        "demo_accounts": "Compte de démo : l'e-mail et le mot de passe sont affichés par la "
                         "commande psonlinechat demo.",
        "bo_login_title": "Back-office : connexion",
        "bo_login_intro": "Réservé aux employés. La boutique est à l'adresse {url}.",
        "bo_nav": "Back-office",
        "dashboard": "Tableau de bord",
        "signed_in_as": "Connecté en tant que {name}",
        "bo_welcome": "Bienvenue, {name}.",
        "bo_chat_title": "Chat en ligne",
        "bo_chat_intro": "Le chat tourne sur la base de la boutique. La fenêtre Chat en ligne, "
                         "en bas à droite de chaque page du back-office, est votre console.",
        "bo_try": "Essayer",
        "bo_try_steps": "Activez son interrupteur En ligne et gardez cet onglet ouvert ; dans "
                        "un autre navigateur, ouvrez la boutique, cliquez sur Discuter avec "
                        "nous et écrivez : la conversation s'ouvre ici. Hors ligne, la "
                        "boutique propose un formulaire dont le mail arrive dans le dossier "
                        "outbox de la démo.",
        "bo_view_shop": "Voir ma boutique",
        "bo_shop": "Boutique",
        "bo_languages": "Langues",
        "bo_version": "Version de PrestaShop",
    },
}


def translator(iso_code: str):
    """A ``t(message_id, **values)`` function for one language (English when unknown).

    :raises KeyError: from the returned function, for a message id no language has.
    """
    table = MESSAGES.get(iso_code, MESSAGES[FALLBACK])

    def t(message_id: str, **values: str) -> str:
        text = table.get(message_id) or MESSAGES[FALLBACK][message_id]
        return text.format(**values) if values else text

    return t


@dataclasses.dataclass(frozen=True)
class Product:
    """One product of the demo catalogue; names and descriptions by language."""

    reference: str
    cents: int
    colour: str
    names: dict[str, str]
    descriptions: dict[str, str]

    def name(self, iso_code: str) -> str:
        return self.names.get(iso_code, self.names[FALLBACK])

    def description(self, iso_code: str) -> str:
        return self.descriptions.get(iso_code, self.descriptions[FALLBACK])

    def price(self, iso_code: str) -> str:
        """The price in euros as the language writes it: ``€29.00`` or ``29,00 €``."""
        amount = f"{self.cents // 100}.{self.cents % 100:02d}"
        if iso_code == "fr":
            return amount.replace(".", ",") + "\u00a0€"
        return "€" + amount


CATALOGUE: tuple[Product, ...] = (
    Product("demo_1", 2900, "#c8553d",
            {"en": "Hummingbird printed T-shirt", "fr": "T-shirt imprimé colibri"},
            {"en": "Organic cotton, regular fit, printed in Lyon.",
             "fr": "Coton bio, coupe droite, imprimé à Lyon."}),
    Product("demo_2", 3590, "#588b8b",
            {"en": "Mountain fox notebook", "fr": "Carnet renard des montagnes"},
            {"en": "120 dotted pages, lay-flat binding.",
             "fr": "120 pages pointillées, reliure à plat."}),
    Product("demo_3", 1190, "#f28f3b",
            {"en": "Today is a good day mug", "fr": "Mug « Today is a good day »"},
            {"en": "Stoneware, 33 cl, dishwasher safe.",
             "fr": "Grès, 33 cl, passe au lave-vaisselle."}),
    Product("demo_4", 4900, "#2d3047",
            {"en": "Brown bear cushion", "fr": "Coussin ours brun"},
            {"en": "Linen cover, feather filling, 45 × 45 cm.",
             "fr": "Housse en lin, garnissage plumes, 45 × 45 cm."}),
)
