"""The four generative models, standalone and knowing nothing of RL.

* :class:`ConditionalDiffusion`: a DDPM over vectors (``linear``/``cosine``/``vp``
  schedules, DDPM and DDIM samplers, differentiable and generator-seeded sampling);
* :class:`ConditionalGAN`: generator and logit discriminator, non-saturating loss + R1;
* :class:`VAE`: a (conditional) beta-VAE with a diagonal Gaussian posterior;
* :class:`SetTransformer`: a masked, order-invariant encoder of a set of tokens.

Every model takes ``cond_dim=0`` for "unconditional" (then ``cond=None``) and an optional
``torch.Generator`` wherever it draws random numbers.
"""

from gaidrl.generative.diffusion import (
    PREDICTIONS,
    SAMPLERS,
    SCHEDULES,
    ConditionalDiffusion,
    Denoiser,
    SinusoidalEmbedding,
    beta_schedule,
)
from gaidrl.generative.gan import ConditionalGAN, DiscriminatorLoss
from gaidrl.generative.metrics import mmd_rbf
from gaidrl.generative.transformer import POOLINGS, MaskedAttention, SetEncoderBlock, SetTransformer
from gaidrl.generative.vae import VAE, VAELoss

__all__ = [
    "PREDICTIONS",
    "POOLINGS",
    "SAMPLERS",
    "SCHEDULES",
    "VAE",
    "ConditionalDiffusion",
    "ConditionalGAN",
    "Denoiser",
    "DiscriminatorLoss",
    "MaskedAttention",
    "SetEncoderBlock",
    "SetTransformer",
    "SinusoidalEmbedding",
    "VAELoss",
    "beta_schedule",
    "mmd_rbf",
]
