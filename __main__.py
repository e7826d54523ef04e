"""leanstack: load and validate the stack config, build the platform, export what callers need."""

import pulumi

from leanstack.components.platform import Platform, PlatformArgs, config_from_engine

config = config_from_engine()
platform = Platform(config.namespace, PlatformArgs(config=config, stack=pulumi.get_stack()))

pulumi.export("namespace", platform.namespace)
pulumi.export("images", {name: service.image for name, service in platform.services.items()})
pulumi.export("addresses", {name: service.address for name, service in platform.services.items() if service.address})
pulumi.export("cost", platform.cost)
pulumi.export("image_cost", platform.image_cost)
