"""Networks over the mustache window: the U-Net generator and the PatchGAN discriminator."""
