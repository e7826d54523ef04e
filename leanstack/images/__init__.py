"""Where an image's bytes are: its layers, what each added, dive's efficiency and wasted bytes, findings.

Pure logic (layer file lists -> efficiency, findings, largest directories) lives in `filesystem`,
`efficiency`, `findings` and `report`; `source` reads an image's config and layer tars from a registry
(HTTP API) or the local Docker engine (the docker SDK), streaming each layer once.
"""
