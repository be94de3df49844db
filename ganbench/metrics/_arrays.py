"""Array inputs: metrics take numpy arrays, lists or torch tensors alike."""
import numpy as np


def as_numpy(x) -> np.ndarray:
    """A float64 numpy array from a numpy array, a list or a torch tensor (any device)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)
