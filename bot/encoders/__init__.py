"""Pre-trained sentence encoders that ship inside registry packages (nothing is downloaded)."""
