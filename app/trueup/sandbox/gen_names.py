"""Names for the generated world: small-business clients, their towns, and how a PSA misspells them.

Phone numbers use the fictional 555-01xx range.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Town:
    city: str
    state: str
    postal: str
    country: str
    area_code: str


def _us(city: str, state: str, postal: str, area_code: str) -> Town:
    return Town(city, state, postal, "US", area_code)


TOWNS = (
    _us("Denver", "CO", "80202", "303"),
    _us("Boulder", "CO", "80302", "303"),
    _us("Fort Collins", "CO", "80524", "970"),
    _us("Colorado Springs", "CO", "80903", "719"),
    _us("Healdsburg", "CA", "95448", "707"),
    _us("Santa Rosa", "CA", "95404", "707"),
    _us("Sacramento", "CA", "95814", "916"),
    _us("San Luis Obispo", "CA", "93401", "805"),
    _us("Portland", "OR", "97205", "503"),
    _us("Bend", "OR", "97701", "541"),
    _us("Eugene", "OR", "97401", "541"),
    _us("Tacoma", "WA", "98402", "253"),
    _us("Spokane", "WA", "99201", "509"),
    _us("Walla Walla", "WA", "99362", "509"),
    _us("Boise", "ID", "83702", "208"),
    _us("Salt Lake City", "UT", "84111", "801"),
    _us("Provo", "UT", "84601", "801"),
    _us("Phoenix", "AZ", "85004", "602"),
    _us("Tucson", "AZ", "85701", "520"),
    _us("Albuquerque", "NM", "87102", "505"),
    _us("Austin", "TX", "78701", "512"),
    _us("San Antonio", "TX", "78205", "210"),
    _us("Fort Worth", "TX", "76102", "817"),
    _us("Tulsa", "OK", "74103", "918"),
    _us("Omaha", "NE", "68102", "402"),
    _us("Kansas City", "MO", "64105", "816"),
    _us("Madison", "WI", "53703", "608"),
    _us("Minneapolis", "MN", "55401", "612"),
    _us("Dayton", "OH", "45402", "937"),
    _us("Columbus", "OH", "43215", "614"),
    _us("Nashville", "TN", "37203", "615"),
    _us("Asheville", "NC", "28801", "828"),
    _us("Raleigh", "NC", "27601", "919"),
    _us("Charleston", "SC", "29401", "843"),
    _us("Savannah", "GA", "31401", "912"),
    _us("Richmond", "VA", "23219", "804"),
    _us("Burlington", "VT", "05401", "802"),
    _us("Portland", "ME", "04101", "207"),
)
ABROAD: dict[str, Town] = {
    "CAD": Town("Vancouver", "BC", "V6B 1A1", "CA", "604"),
    "GBP": Town("Bristol", "", "BS1 4DJ", "GB", "117"),
    "EUR": Town("Dublin", "", "D02 X285", "IE", "1"),
}

PLACES = (
    "Cedar Hollow",
    "Summit Ridge",
    "Lakeside",
    "Riverbend",
    "Pine Valley",
    "Willow Park",
    "Granite Peak",
    "Harbor Point",
    "Maple Grove",
    "Silver Lake",
    "Eagle Rock",
    "Oak Hill",
    "Red Rock",
    "Stone Bridge",
    "Blue Spruce",
    "Aspen Grove",
    "Prairie Wind",
    "Cottonwood",
    "Ironwood",
    "Juniper",
    "Clearwater",
    "Twin Pines",
    "Birch Lane",
    "Highland",
    "Foothills",
    "North Star",
    "Copper Canyon",
    "Sunridge",
    "Meadowbrook",
    "Fox Hollow",
    "Elk Ridge",
    "Bluebird",
    "Heron Bay",
    "Lone Pine",
    "Westgate",
    "Old Mill",
    "Sandpiper",
    "Timberline",
    "Crescent",
    "Falcon Crest",
    "Hidden Valley",
    "Canyon View",
    "Black Bear",
    "Sagebrush",
    "Three Rivers",
    "Kestrel",
    "Mesa Verde",
    "Wildflower",
    "Orchard Hill",
    "Driftwood",
)
SURNAMES = (
    "Hollis",
    "Crane",
    "Whitaker",
    "Morales",
    "Okafor",
    "Brennan",
    "Lindqvist",
    "Patel",
    "Nakamura",
    "Fischer",
    "Delgado",
    "Sullivan",
    "Harrington",
    "Kowalski",
    "Ramirez",
    "Chen",
    "Abernathy",
    "Gallagher",
    "Thornton",
    "Vasquez",
    "Whitfield",
    "O'Brien",
    "Mackenzie",
    "Rossi",
    "Dubois",
    "Haverford",
    "Pruitt",
    "Castellano",
    "Bauer",
    "Lindgren",
    "Mercer",
    "Sinclair",
    "Albright",
    "Beaumont",
    "Carver",
    "Donovan",
    "Ellison",
    "Faraday",
    "Garrison",
    "Holloway",
    "Ingram",
    "Jensen",
    "Keating",
    "Lowell",
    "Montgomery",
    "Novak",
    "Prescott",
)
# (business, whether two partners' names suit it: "Hollis & Crane Law")
BUSINESSES = (
    ("Family Dental", False),
    ("Dental Group", False),
    ("Orthodontics", False),
    ("Veterinary Clinic", False),
    ("Animal Hospital", False),
    ("Physical Therapy", False),
    ("Chiropractic", False),
    ("Family Medicine", False),
    ("Eye Care", False),
    ("Law", True),
    ("Law Group", True),
    ("Accounting", True),
    ("CPA Group", True),
    ("Tax & Bookkeeping", False),
    ("Wealth Advisors", True),
    ("Insurance Agency", False),
    ("Realty", False),
    ("Title & Escrow", False),
    ("Construction", False),
    ("Builders", False),
    ("Roofing", False),
    ("Plumbing & Heating", False),
    ("Electric", False),
    ("Landscaping", False),
    ("Winery", False),
    ("Brewing Company", False),
    ("Coffee Roasters", False),
    ("Bakery", False),
    ("Food Bank", False),
    ("Community Foundation", False),
    ("Youth Soccer Club", False),
    ("Historical Society", False),
    ("Montessori School", False),
    ("Architects", True),
    ("Engineering", True),
    ("Land Surveying", False),
    ("Machine Works", False),
    ("Manufacturing", False),
    ("Auto Repair", False),
    ("Logistics", False),
    ("Property Management", False),
    ("Credit Union", False),
    ("Dermatology", False),
    ("Pediatrics", False),
    ("Funeral Home", False),
    ("Marketing", True),
    ("Outfitters", False),
    ("Farm Supply", False),
    ("Cabinetry", False),
    ("Pet Resort", False),
)
# A handful that carry characters a name matcher must cope with.
ODD_NAMES = ("Zoë's Café & Bakery", "Señor Pepe's Cantina", "St. Brigid's Parish", "A+ Tutoring")

HALO_SUFFIXES = (" LLC", ", LLC", " Inc.", " Inc", ", Inc.", " Ltd", " Co.", " Corp.")


def company_name(rng: random.Random, taken: set[str]) -> str:
    """A new small-business name, unique (case-insensitively) against `taken`."""
    for attempt in range(1000):
        roll = rng.random()
        business, partnered = rng.choice(BUSINESSES)
        if partnered and roll < 0.45:
            first, second = rng.sample(SURNAMES, 2)
            name = f"{first} & {second} {business}"
        elif roll < 0.7:
            name = f"{rng.choice(PLACES)} {business}"
        elif roll < 0.995 or attempt:
            name = f"{rng.choice(SURNAMES)} {business}"
        else:
            name = rng.choice(ODD_NAMES)
        if name.lower() not in taken:
            taken.add(name.lower())
            return name
    raise RuntimeError("ran out of company names")  # pragma: no cover - 150k+ combinations


def halo_variant(rng: random.Random, name: str) -> str:
    """How the MSP typed the same client into Halo: a legal suffix, 'and' for '&', lost
    punctuation, shouting. About a third of clients differ."""
    roll = rng.random()
    if roll < 0.14:
        suffix = ", PLLC" if name.endswith(("Law", "Law Group")) else rng.choice(HALO_SUFFIXES)
        return name + suffix
    if roll < 0.2 and "&" in name:
        return name.replace("&", "and")
    if roll < 0.25 and re.search(r"['.]", name):
        return re.sub(r"['.]", "", name)
    if roll < 0.28:
        return name.upper()
    if roll < 0.33:
        return f"{name} ({rng.choice(('Main Office', 'HQ', 'Billing'))})"
    return name


def website(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower().replace("&", "and")) + ".com"


CALLING_CODES = {"CA": "1", "GB": "44", "IE": "353"}


def phone(rng: random.Random, town: Town) -> str:
    line = f"555-01{rng.randrange(100):02d}"
    if town.country == "US":
        return f"{town.area_code}-{line}"
    return f"+{CALLING_CODES[town.country]} {town.area_code} {line}"


STREETS = (
    "Main St",
    "Oak Ave",
    "Commerce Dr",
    "Industrial Blvd",
    "Center St",
    "Mill Rd",
    "Market St",
    "Park Ave",
    "Railroad Ave",
    "Vineyard Ln",
    "Old Town Rd",
    "Broadway",
    "Canyon Rd",
    "Professional Pkwy",
    "Lakeshore Dr",
    "Depot St",
    "Harvest Way",
    "Ridge Rd",
)


def street(rng: random.Random) -> str:
    return f"{rng.randrange(100, 9900)} {rng.choice(STREETS)}"
