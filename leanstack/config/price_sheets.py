"""Price sheets: what a unit of each resource costs, with where the numbers came from.

Pricing is data, not code: a sheet is a pydantic model, shipped sheets are instances of it, and a
stack may define its own under `leanstack:cost.custom_sheet`. All prices are USD and exact Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Price = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=12)]


class PriceSheet(BaseModel):
    """Unit prices; per hour for capacity, per GiB-month for storage, per GiB for transfer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Shown in reports.")
    source: str = Field(min_length=1, description="Where the prices come from.")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="When they were read (YYYY-MM-DD).")
    cpu_core_hour: Price = Field(description="One vCPU (1000m) for an hour.")
    memory_gib_hour: Price = Field(description="One GiB of memory for an hour.")
    ephemeral_gib_hour: Price = Field(Decimal(0), description="One GiB of ephemeral storage for an hour.")
    billing: Literal["requests", "fargate", "autopilot"] = Field(
        "requests", description="How a pod is billed: its requests (OpenCost-like), EKS Fargate pod sizes, or "
                                "GKE Autopilot request rules (docs/costing.md).")
    storage_gib_month: dict[str, Price] = Field(description="Per storage class; key 'default' for any other.")
    load_balancer_hour: Price = Field(Decimal(0), description="One Service of type LoadBalancer for an hour.")
    registry_gib_month: Price = Field(Decimal(0), description="Image storage in the registry.")
    egress_gib: Price = Field(Decimal(0), description="Image pull transfer, per GiB pulled.")

    def storage_price(self, storage_class: str | None) -> Decimal:
        prices = self.storage_gib_month
        return prices.get(storage_class or "default", prices.get("default", Decimal(0)))


SHEETS: dict[str, PriceSheet] = {
    sheet.name: sheet
    for sheet in (
        PriceSheet(
            name="aws-eks-fargate-us-east-1",
            source="AWS Fargate pricing, US East (N. Virginia), Linux/x86 on-demand; EBS gp3/gp2; NLB hourly; "
                   "ECR storage; data transfer out to the internet",
            date="2026-11-01",
            billing="fargate",
            cpu_core_hour=Decimal("0.04048"),
            memory_gib_hour=Decimal("0.004445"),
            ephemeral_gib_hour=Decimal("0.000111"),
            storage_gib_month={"default": Decimal("0.08"), "gp3": Decimal("0.08"), "gp2": Decimal("0.10"),
                               "standard": Decimal("0.08")},
            load_balancer_hour=Decimal("0.0225"),
            registry_gib_month=Decimal("0.10"),
            egress_gib=Decimal("0.09"),
        ),
        PriceSheet(
            name="gke-autopilot-us-central1",
            source="GKE Autopilot general-purpose Pod pricing, us-central1; Persistent Disk standard/balanced/SSD; "
                   "forwarding rule hourly; Artifact Registry storage; premium-tier internet egress",
            date="2026-11-01",
            cpu_core_hour=Decimal("0.0445"),
            memory_gib_hour=Decimal("0.0049225"),
            ephemeral_gib_hour=Decimal("0.0000548"),
            billing="autopilot",
            storage_gib_month={"default": Decimal("0.10"), "standard": Decimal("0.04"),
                               "standard-rwo": Decimal("0.10"), "premium-rwo": Decimal("0.17")},
            load_balancer_hour=Decimal("0.025"),
            registry_gib_month=Decimal("0.10"),
            egress_gib=Decimal("0.12"),
        ),
        PriceSheet(
            name="opencost-default",
            source="OpenCost's default custom pricing (configs/default.json, based on GCP us-central1)",
            date="2026-11-01",
            cpu_core_hour=Decimal("0.031611"),
            memory_gib_hour=Decimal("0.004237"),
            # OpenCost lists storage at $0.00005479452 per GiB-hour: $0.04 per GiB-month at 730 hours.
            storage_gib_month={"default": Decimal("0.04")},
            egress_gib=Decimal("0.12"),
        ),
    )
}
DEFAULT_SHEET = "opencost-default"
