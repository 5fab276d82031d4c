"""What the generated MSP sells: Pax8 products, the Halo items it made for them, its own services.

Prices are USD per seat per month for the usual term (annual commitment billed monthly where the
vendor offers one); gen_world derives the month-to-month, annual and 3-year prices from them.
Vendor SKUs follow each vendor's style; the Microsoft ones are NCE product ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# (billingTerm, commitment term or None, weight): the ways a product is bought.
Term = tuple[str, str | None, float]

NCE: tuple[Term, ...] = (
    ("Monthly", "1-Year", 0.72),
    ("Monthly", None, 0.2),
    ("Annual", "1-Year", 0.08),
)
NCE_3Y: tuple[Term, ...] = (*NCE, ("3-Year", "3-Year", 0.02))
COMMIT_ONLY: tuple[Term, ...] = (("Monthly", "1-Year", 0.8), ("Annual", "1-Year", 0.2))
ADOBE: tuple[Term, ...] = (
    ("Monthly", "1-Year", 0.6),
    ("Monthly", None, 0.2),
    ("Annual", "1-Year", 0.2),
)
MONTHLY: tuple[Term, ...] = (("Monthly", None, 1.0),)


@dataclass(frozen=True)
class Product:
    key: str  # stable handle the storylines use
    name: str  # Pax8's product name
    vendor: str
    sku: str  # Pax8 sku
    vendor_sku: str
    price: Decimal  # customer price per unit per month
    cost: Decimal  # partner cost per unit per month
    unit: str  # the invoice item's unitOfMeasure
    scale: str  # how a client's quantity is sized: core, user, device, server, storage, tenant
    weight: float  # how often clients carry it
    terms: tuple[Term, ...]
    halo_name: str | None  # the MSP's Halo item; None = never set up (an unmapped SKU)
    halo_code: str  # which code the Halo item carries: "sku", "vendor" or "" (name only)
    description: str

    @property
    def is_microsoft_seat(self) -> bool:
        """NCE seat products cost 20% more month-to-month than on an annual commitment."""
        return self.vendor == "Microsoft" and self.scale != "usage"


def _p(
    key: str,
    name: str,
    vendor: str,
    sku: str,
    vendor_sku: str,
    price: str,
    cost: str,
    unit: str,
    scale: str,
    weight: float,
    terms: tuple[Term, ...],
    halo_name: str | None,
    halo_code: str,
    description: str,
) -> Product:
    return Product(
        key, name, vendor, sku, vendor_sku, Decimal(price), Decimal(cost), unit, scale, weight,
        terms, halo_name, halo_code, description,
    )  # fmt: skip


MS = "Microsoft"
PRODUCTS: tuple[Product, ...] = (
    _p("m365-basic", "Microsoft 365 Business Basic", MS, "MST-365-BUS-BAS-C100",
       "CFQ7TTC0LH18:0001", "6.00", "5.10", "User", "core", 5.0, NCE,
       "M365 Business Basic", "sku", "Web and mobile Office apps, Teams, OneDrive, business email"),
    _p("m365-std", "Microsoft 365 Business Standard", MS, "MST-365-BUS-STD-C100",
       "CFQ7TTC0LDPB:0001", "12.50", "10.63", "User", "core", 8.0, NCE,
       "M365 Business Standard", "sku", "Desktop Office apps, Teams, email and cloud storage"),
    _p("m365-prem", "Microsoft 365 Business Premium", MS, "MST-365-BUS-PRM-C100",
       "CFQ7TTC0LCHC:0002", "22.00", "18.70", "User", "core", 8.0, NCE,
       "M365 Business Premium", "vendor", "Business Standard plus Intune, Entra ID and Defender"),
    _p("m365-apps", "Microsoft 365 Apps for business", MS, "MST-365-APP-BUS-C100",
       "CFQ7TTC0LH1G:0001", "8.25", "7.01", "User", "user", 3.0, NCE,
       "M365 Apps for Business", "sku", "Desktop Office apps and 1 TB OneDrive, no email"),
    _p("m365-apps-ent", "Microsoft 365 Apps for enterprise", MS, "MST-365-APP-ENT-C100",
       "CFQ7TTC0LGZT:0001", "12.00", "10.20", "User", "user", 1.0, NCE,
       "M365 Apps for Enterprise", "sku", "Office apps with shared computer activation"),
    _p("o365-e1", "Office 365 E1", MS, "MST-O365-E1-C100", "CFQ7TTC0LF8Q:0001",
       "10.00", "8.50", "User", "core", 1.0, NCE, "Office 365 E1", "vendor",
       "Web Office apps, email and Teams for enterprises"),
    _p("o365-e3", "Office 365 E3", MS, "MST-O365-E3-C100", "CFQ7TTC0LF8R:0001",
       "23.00", "19.55", "User", "core", 1.5, NCE, "Office 365 E3", "sku",
       "Office apps, email, Teams and compliance tools"),
    _p("m365-e3", "Microsoft 365 E3", MS, "MST-365-E3-C100", "CFQ7TTC0LFLX:0001",
       "36.00", "30.60", "User", "core", 1.5, NCE_3Y, "M365 E3", "sku",
       "Office 365 E3 plus Windows Enterprise and Intune"),
    _p("m365-e5", "Microsoft 365 E5", MS, "MST-365-E5-C100", "CFQ7TTC0LFLZ:0002",
       "57.00", "48.45", "User", "core", 0.5, NCE, "M365 E5", "sku",
       "E3 plus advanced security, compliance and Power BI Pro"),
    _p("m365-f3", "Microsoft 365 F3", MS, "MST-365-F3-C100", "CFQ7TTC0LGZW:0001",
       "8.00", "6.80", "User", "user", 1.0, NCE, "M365 F3 (Frontline)", "vendor",
       "Frontline worker licence: web apps, Teams, 2 GB mailbox"),
    _p("exo-p1", "Exchange Online (Plan 1)", MS, "MST-EXO-P1-C100", "CFQ7TTC0LH16:0001",
       "4.00", "3.40", "User", "user", 4.0, NCE, "Exchange Online Plan 1", "sku",
       "50 GB business mailbox"),
    _p("exo-p2", "Exchange Online (Plan 2)", MS, "MST-EXO-P2-C100", "CFQ7TTC0LH1P:0001",
       "8.00", "6.80", "User", "user", 1.0, NCE, "Exchange Online Plan 2", "sku",
       "100 GB mailbox with unlimited archiving"),
    _p("exo-archive", "Exchange Online Archiving for Exchange Online", MS, "MST-EXO-ARC-C100",
       "CFQ7TTC0LH0Z:0001", "3.00", "2.55", "User", "user", 0.6, NCE, None, "",
       "Archiving and legal hold add-on"),
    _p("teams-ess", "Microsoft Teams Essentials", MS, "MST-TMS-ESS-C100", "CFQ7TTC0RM8K:0001",
       "4.00", "3.40", "User", "user", 1.5, NCE, "Teams Essentials", "sku",
       "Teams meetings and chat for small businesses"),
    _p("teams-prem", "Microsoft Teams Premium", MS, "MST-TMS-PRM-C100", "CFQ7TTC0RM8S:0001",
       "10.00", "8.50", "User", "user", 0.8, NCE, "Teams Premium", "sku",
       "Intelligent recap, webinars and advanced meeting protection"),
    _p("teams-phone", "Microsoft Teams Phone Standard", MS, "MST-TMS-PHN-C100",
       "CFQ7TTC0LH2H:0001", "10.00", "8.50", "User", "user", 1.5, NCE, "Teams Phone",
       "vendor", "Cloud phone system for Teams"),
    _p("defender-bus", "Microsoft Defender for Business", MS, "MST-DEF-BUS-C100",
       "CFQ7TTC0LCHB:0001", "3.00", "2.55", "User", "user", 3.0, NCE, "Defender for Business",
       "sku", "Endpoint security for businesses up to 300 users"),
    _p("defender-o365", "Microsoft Defender for Office 365 (Plan 1)", MS, "MST-DEF-O365-P1-C100",
       "CFQ7TTC0LHSF:0001", "2.00", "1.70", "User", "user", 2.0, NCE, "Defender for Office 365",
       "sku", "Safe Links and Safe Attachments for email"),
    _p("entra-p1", "Microsoft Entra ID P1", MS, "MST-ENT-ID-P1-C100", "CFQ7TTC0LFK5:0001",
       "6.00", "5.10", "User", "user", 2.0, NCE, "Azure AD Premium P1", "vendor",
       "Conditional access and identity protection"),
    _p("intune-p1", "Microsoft Intune Plan 1", MS, "MST-INT-P1-C100", "CFQ7TTC0LCHJ:0001",
       "8.00", "6.80", "User", "user", 1.5, NCE, "Intune Device Management", "sku",
       "Mobile device and app management"),
    _p("visio-p2", "Visio Plan 2", MS, "MST-VIS-P2-C100", "CFQ7TTC0HD33:0001",
       "15.00", "12.75", "User", "user", 1.0, NCE, "Visio Plan 2", "",
       "Visio desktop and web diagramming"),
    _p("project-p3", "Project Plan 3", MS, "MST-PRJ-P3-C100", "CFQ7TTC0HDCW:0001",
       "30.00", "25.50", "User", "user", 0.6, NCE, "Project Plan 3", "",
       "Project desktop client and online"),
    _p("powerbi-pro", "Power BI Pro", MS, "MST-PBI-PRO-C100", "CFQ7TTC0L3PB:0001",
       "14.00", "11.90", "User", "user", 0.8, NCE, None, "", "Self-service analytics and sharing"),
    _p("copilot", "Microsoft 365 Copilot", MS, "MST-365-COP-C100", "CFQ7TTC0MM8R:0002",
       "30.00", "25.50", "User", "user", 0.8, COMMIT_ONLY, "Microsoft 365 Copilot", "sku",
       "AI assistant across the Microsoft 365 apps"),
    _p("w365-bus", "Windows 365 Business 2 vCPU 8 GB 128 GB", MS, "MST-W365-BUS-2C8G-C100",
       "CFQ7TTC0J203:0007", "41.00", "34.85", "User", "user", 0.5, NCE, "Windows 365 Cloud PC",
       "sku", "Cloud PC, 2 vCPU, 8 GB RAM, 128 GB storage"),
    _p("azure-plan", "Azure plan", MS, "MST-AZR-PLAN", "DZH318Z0BPS6:0001", "0.00", "0.00",
       "Usage", "usage", 0.0, MONTHLY, "Microsoft Azure (consumption)", "sku",
       "Pay-as-you-go Azure consumption, billed in arrears"),
    _p("acrobat-pro", "Adobe Acrobat Pro for teams", "Adobe", "ADB-ACR-PRO-TMS",
       "65322651CA01A12", "23.99", "20.39", "License", "user", 3.0, ADOBE, "Adobe Acrobat Pro",
       "sku", "Create, edit and e-sign PDFs"),
    _p("acrobat-std", "Adobe Acrobat Standard for teams", "Adobe", "ADB-ACR-STD-TMS",
       "65322647CA01A12", "14.99", "12.74", "License", "user", 1.5, ADOBE,
       "Adobe Acrobat Standard", "sku", "Edit and e-sign PDFs"),
    _p("cc-all", "Adobe Creative Cloud All Apps for teams", "Adobe", "ADB-CC-ALL-TMS",
       "65322650CA01A12", "89.99", "76.49", "License", "user", 0.8, ADOBE, "Adobe CC All Apps",
       "vendor", "20+ creative desktop and mobile apps"),
    _p("photoshop", "Adobe Photoshop for teams", "Adobe", "ADB-PS-TMS", "65322628CA01A12",
       "37.99", "32.29", "License", "user", 0.5, ADOBE, "Adobe Photoshop", "sku",
       "Photoshop desktop, web and iPad"),
    _p("gz-bus", "Bitdefender GravityZone Business Security", "Bitdefender", "BDF-GZ-BUS-SEC",
       "GZBSM-1M", "2.50", "1.75", "Endpoint", "device", 3.0, MONTHLY,
       "Bitdefender Endpoint Protection", "sku", "Antimalware and endpoint control"),
    _p("gz-prem", "Bitdefender GravityZone Business Security Premium", "Bitdefender",
       "BDF-GZ-BUS-PRM", "GZBSPM-1M", "4.50", "3.15", "Endpoint", "device", 1.5, MONTHLY,
       "Bitdefender Endpoint Protection Premium", "sku", "Adds sandboxing and EDR"),
    _p("gz-email", "Bitdefender GravityZone Email Security", "Bitdefender", "BDF-GZ-EML-SEC",
       "GZES-1M", "1.80", "1.26", "Mailbox", "user", 1.0, MONTHLY, "Bitdefender Email Security",
       "vendor", "Inbound and outbound email filtering"),
    _p("acr-ws", "Acronis Cyber Protect Cloud - Workstation", "Acronis", "ACR-CPC-WKS",
       "SCCAMSENS", "4.50", "3.00", "Workstation", "device", 3.5, MONTHLY,
       "Acronis Backup - Workstation", "sku", "Backup and anti-malware per workstation"),
    _p("acr-srv", "Acronis Cyber Protect Cloud - Server", "Acronis", "ACR-CPC-SRV", "SCCBMSENS",
       "25.00", "17.50", "Server", "server", 2.0, MONTHLY, "Acronis Backup - Server", "sku",
       "Backup and anti-malware per server"),
    _p("acr-m365", "Acronis Cyber Protect Cloud - Microsoft 365 Seat", "Acronis", "ACR-CPC-M365",
       "SCCCMSENS", "2.50", "1.60", "Seat", "user", 2.0, MONTHLY, "Acronis M365 Backup", "sku",
       "Backup of Exchange, OneDrive, SharePoint and Teams"),
    _p("acr-storage", "Acronis Cyber Protect Cloud - Hosted Storage", "Acronis", "ACR-CPC-STG-GB",
       "SCCDMSENS", "0.09", "0.05", "GB", "storage", 2.5, MONTHLY,
       "Acronis Cloud Storage (per GB)", "sku", "Acronis-hosted backup storage per GB"),
    _p("keeper-bus", "Keeper Business", "Keeper Security", "KPR-BUS", "KBUS-1M", "3.75", "2.81",
       "User", "user", 3.0, MONTHLY, "Keeper Password Manager", "sku",
       "Password manager with shared folders and admin console"),
    _p("keeper-ent", "Keeper Enterprise", "Keeper Security", "KPR-ENT", "KENT-1M", "5.00",
       "3.75", "User", "user", 1.0, MONTHLY, "Keeper Enterprise", "sku",
       "Keeper with SSO and advanced reporting"),
    _p("dbx-std", "Dropbox Business Standard", "Dropbox", "DBX-BUS-STD", "DBX-TEAM-STD",
       "15.00", "12.00", "User", "user", 1.5, MONTHLY, "Dropbox Business", "sku",
       "5 TB team storage"),
    _p("dbx-adv", "Dropbox Business Advanced", "Dropbox", "DBX-BUS-ADV", "DBX-TEAM-ADV",
       "24.00", "19.20", "User", "user", 1.0, MONTHLY, "Dropbox Business Advanced", "sku",
       "Team storage from 15 TB with advanced admin"),
    _p("im-unite", "Intermedia Unite Pro", "Intermedia", "INT-UNT-PRO", "UNITE-PRO",
       "27.99", "19.59", "Seat", "user", 1.5, MONTHLY, "Hosted VoIP - Unite Pro", "vendor",
       "Cloud phone, video and chat"),
    _p("im-securisync", "Intermedia SecuriSync", "Intermedia", "INT-SSY", "SECURISYNC-1",
       "5.00", "3.50", "User", "user", 0.5, MONTHLY, None, "",
       "File sync and share with backup"),
    _p("s1-control", "SentinelOne Singularity Control", "SentinelOne", "S1-SNG-CTL",
       "S1-CONTROL", "6.00", "4.20", "Endpoint", "device", 1.5, MONTHLY, "SentinelOne EDR",
       "sku", "Endpoint protection with device control"),
    _p("s1-complete", "SentinelOne Singularity Complete", "SentinelOne", "S1-SNG-CMP",
       "S1-COMPLETE", "8.50", "6.00", "Endpoint", "device", 1.0, MONTHLY,
       "SentinelOne EDR Complete", "sku", "EDR with threat hunting"),
    _p("duo-ess", "Duo Essentials", "Cisco", "DUO-ESS", "DUO-ESSENTIALS", "3.00", "2.25",
       "User", "user", 2.0, MONTHLY, "Duo MFA", "", "Multi-factor authentication"),
    _p("duo-adv", "Duo Advantage", "Cisco", "DUO-ADV", "DUO-ADVANTAGE", "6.00", "4.50", "User",
       "user", 0.8, MONTHLY, "Duo MFA Advantage", "sku", "MFA with device trust"),
    _p("dropsuite", "Dropsuite Microsoft 365 Backup", "Dropsuite", "DRS-M365-BKP",
       "DS-M365-ENT", "3.50", "2.45", "User", "user", 0.7, MONTHLY, None, "",
       "Microsoft 365 backup and archiving"),
    _p("ironscales", "IRONSCALES Email Protect", "IRONSCALES", "IRN-EML-PRT", "IRN-EP-1M",
       "3.00", "2.10", "Mailbox", "user", 1.0, MONTHLY, "IRONSCALES Anti-Phishing", "sku",
       "AI phishing protection for Microsoft 365"),
    _p("gws-starter", "Google Workspace Business Starter", "Google", "GGL-WS-BUS-STR",
       "1010020027", "7.00", "5.95", "User", "core", 0.4, MONTHLY, None, "",
       "Gmail, Meet and 30 GB storage"),
    _p("gws-std", "Google Workspace Business Standard", "Google", "GGL-WS-BUS-STD",
       "1010020028", "14.00", "11.90", "User", "core", 0.6, MONTHLY,
       "Google Workspace Standard", "sku", "Gmail, Meet and 2 TB storage"),
)  # fmt: skip

BY_KEY = {product.key: product for product in PRODUCTS}
AZURE = BY_KEY["azure-plan"]


@dataclass(frozen=True)
class Service:
    """An item the MSP sells itself (not through Pax8), on most recurring invoices."""

    name: str
    code: str
    price: Decimal
    per: str  # what its quantity counts: user, device or tenant


SERVICES: tuple[Service, ...] = (
    Service("Managed Services - Per User", "MSP-USER", Decimal("125.00"), "user"),
    Service("Managed Services - Per Device", "MSP-DEVICE", Decimal("65.00"), "device"),
    Service("Managed Server", "MSP-SERVER", Decimal("150.00"), "tenant"),
    Service("Domain & DNS Hosting", "MSP-DNS", Decimal("5.00"), "tenant"),
)

# Azure meters a usage summary's daily lines draw from:
# (name, unit of measure, customer unit price, one instance's typical quantity per day).
AZURE_METERS: tuple[tuple[str, str, Decimal, Decimal], ...] = (
    ("Virtual Machines Dv5 Series", "Hour", Decimal("0.576"), Decimal(24)),
    ("Virtual Machines B Series", "Hour", Decimal("0.0832"), Decimal(24)),
    ("Managed Disks - Premium SSD P10", "Disk/Month", Decimal("19.71"), Decimal("0.0333")),
    ("Storage - Hot LRS Data Stored", "GB/Month", Decimal("0.0208"), Decimal("16.6667")),
    ("Bandwidth - Data Transfer Out", "GB", Decimal("0.087"), Decimal(12)),
    ("Azure Backup - Protected Instances", "Instance/Month", Decimal("10.00"), Decimal("0.0333")),
    ("SQL Database - General Purpose vCore", "Hour", Decimal("0.5044"), Decimal(48)),
)
