"""Temporal models of pose: the DYAN dictionary of linear-dynamics impulse responses, the fill
methods (linear, pchip, eq17, fista, hpim) that complete unlabelled frames, and dictionary
training. NumPy/SciPy on the live path; torch only in ``dyan_torch`` (the differentiable
dictionary, for code that learns poles) and inside training functions."""
