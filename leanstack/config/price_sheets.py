"""Price sheets: what a unit of each resource costs, with where the numbers came from.

Pricing is data, not code: a sheet is a pydantic model, shipped sheets are instances of it, and a
stack may define its own under `leanstack:cost.custom_sheet`. All prices are USD and exact Decimals.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leanstack.kube.quantities import QuantityError, parse_quantity

Price = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=12)]


class InstanceType(BaseModel):
    """A machine type a node pool can use, at its on-demand price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="e.g. m6i.large.")
    vcpu: Decimal = Field(gt=0, description="Nominal vCPUs.")
    memory_gib: Decimal = Field(gt=0, description="Nominal memory in GiB.")
    max_pods: int = Field(ge=1, description="Pods per node (EKS: the ENI limit for the VPC CNI).")
    hourly: Price = Field(description="USD per node-hour.")


class DaemonSetRequests(BaseModel):
    """What the cluster's DaemonSets request on every node (log shipper, CNI, metrics agent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: str = Field("0", description="Kubernetes quantity, e.g. 200m.")
    memory: str = Field("0", description="Kubernetes quantity, e.g. 300Mi.")
    pods: int = Field(0, ge=0, description="DaemonSet pods per node (they take pod slots).")

    @model_validator(mode="after")
    def _quantities(self) -> "DaemonSetRequests":
        for value in (self.cpu, self.memory):
            try:
                parse_quantity(value)
            except QuantityError as exc:
                raise ValueError(str(exc)) from None
        return self


class NodePool(BaseModel):
    """A standard node pool (billing: nodes): pods are packed onto nodes of one of `types`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Shown as NodePool/<name> in reports.")
    provider: Literal["gke", "eks"] = Field(description="Whose kube-reserved rules shrink a node's allocatable.")
    types: list[str] = Field(min_length=1, description="Candidate instance types (names from instance_types).")
    daemonset: DaemonSetRequests = Field(default_factory=DaemonSetRequests, description="DaemonSet requests per node.")


class PriceSheet(BaseModel):
    """Unit prices; per hour for capacity, per GiB-month for storage, per GiB for transfer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, description="Shown in reports.")
    source: str = Field(min_length=1, description="Where the prices come from.")
    date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="When they were read (YYYY-MM-DD).")
    cpu_core_hour: Price = Field(description="One vCPU (1000m) for an hour (0 with billing nodes: priced per node).")
    memory_gib_hour: Price = Field(description="One GiB of memory for an hour (0 with billing nodes: priced per node).")
    ephemeral_gib_hour: Price = Field(Decimal(0), description="One GiB of ephemeral storage for an hour.")
    billing: Literal["requests", "fargate", "autopilot", "nodes"] = Field(
        "requests", description="How a pod is billed: its requests (OpenCost-like), EKS Fargate pod sizes, "
                                "GKE Autopilot request rules, or nodes packed from requests (docs/costing.md).")
    instance_types: list[InstanceType] = Field(default_factory=list, description="Machine types (billing nodes).")
    node_pool: Optional[NodePool] = Field(None, description="The pool pods are packed into (billing nodes).")
    cluster_fee_hour: Price = Field(Decimal(0), description="The provider's per-cluster fee, shown with cost.cluster_fee_share.")
    storage_gib_month: dict[str, Price] = Field(description="Per storage class; key 'default' for any other.")
    load_balancer_hour: Price = Field(Decimal(0), description="One Service of type LoadBalancer for an hour.")
    registry_gib_month: Price = Field(Decimal(0), description="Image storage in the registry.")
    egress_gib: Price = Field(Decimal(0), description="Image pull transfer, per GiB pulled.")

    @model_validator(mode="after")
    def _billing_inputs(self) -> "PriceSheet":
        if self.billing == "nodes":
            if self.node_pool is None:
                raise ValueError("billing nodes needs node_pool (and instance_types)")
            known = {t.name for t in self.instance_types}
            unknown = [name for name in self.node_pool.types if name not in known]
            if unknown:
                raise ValueError(f"node_pool.types {', '.join(unknown)} not in instance_types ({', '.join(sorted(known)) or 'none'})")
        elif self.node_pool is not None or self.instance_types:
            raise ValueError("node_pool and instance_types are only used with billing nodes")
        return self

    def storage_price(self, storage_class: str | None) -> Decimal:
        prices = self.storage_gib_month
        return prices.get(storage_class or "default", prices.get("default", Decimal(0)))


# What an EKS cluster in us-east-1 pays besides its pods or nodes, the same on Fargate and node pools:
# EBS gp3/gp2, NLB hourly, ECR storage, transfer out; and the EKS control plane in standard support,
# $0.10 per cluster per hour (AWS Containers blog, "Amazon EKS extended support for Kubernetes versions
# pricing", read 2026-12-01).
AWS_US_EAST_1_EKS = dict(
    storage_gib_month={"default": Decimal("0.08"), "gp3": Decimal("0.08"), "gp2": Decimal("0.10"), "standard": Decimal("0.08")},
    load_balancer_hour=Decimal("0.0225"),
    registry_gib_month=Decimal("0.10"),
    egress_gib=Decimal("0.09"),
    cluster_fee_hour=Decimal("0.10"),
)

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
            **AWS_US_EAST_1_EKS,
        ),
        PriceSheet(
            name="eks-m6i-us-east-1",
            source="EXAMPLE node pool: EC2 m6i on-demand Linux, US East (N. Virginia), as commonly quoted "
                   "($0.096/$0.192/$0.384 per hour), not re-checked against the AWS price list; max pods from "
                   "the VPC CNI ENI limits; EBS gp3/gp2; NLB hourly; ECR storage; data transfer out",
            date="2026-12-01",
            billing="nodes",
            cpu_core_hour=Decimal(0),
            memory_gib_hour=Decimal(0),
            instance_types=[
                InstanceType(name="m6i.large", vcpu=Decimal(2), memory_gib=Decimal(8), max_pods=29, hourly=Decimal("0.096")),
                InstanceType(name="m6i.xlarge", vcpu=Decimal(4), memory_gib=Decimal(16), max_pods=58, hourly=Decimal("0.192")),
                InstanceType(name="m6i.2xlarge", vcpu=Decimal(8), memory_gib=Decimal(32), max_pods=58, hourly=Decimal("0.384")),
            ],
            # Every node runs aws-node (VPC CNI) and kube-proxy; their cpu requests (25m + 100m) are the
            # add-ons' usual defaults, assumed and not re-checked: set your own DaemonSets in a custom sheet.
            node_pool=NodePool(name="general", provider="eks", types=["m6i.large", "m6i.xlarge", "m6i.2xlarge"],
                               daemonset=DaemonSetRequests(cpu="125m", memory="0", pods=2)),
            **AWS_US_EAST_1_EKS,
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
            # GKE cluster management fee, $0.10 per cluster per hour (Autopilot included); one zonal or
            # Autopilot cluster per billing account is covered by the free tier. From the issue: Google's
            # pricing page was not found in the stored copies, so this is not re-checked.
            cluster_fee_hour=Decimal("0.10"),
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
