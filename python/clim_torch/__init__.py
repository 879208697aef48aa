"""clim_torch: the CLIM Playground engine in PyTorch (issue 18), so the same
config trains under torchrun/DDP and the result loads back into the page.
python/README.md lists the modules; each mirrors a file of src/core and
cites docs/METHOD.md by section (§N).

Tensor layouts: images are B×3×H×W float32 in [0, 1] (the engine's
B×H×W×3, transposed; stored as uint8 bytes); embeddings are unit rows.
Shapes use METHOD's notation: B batch (per process), W processes, N
training images, M held-out images, K queue length, d = projDim, F backbone
width, D bank row width (d or F), C clusters, k′ = min(k, N − 1), R
resolutions. An unsupported config value raises ``ValueError``; nothing
falls back silently.
"""
