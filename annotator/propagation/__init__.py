"""Joint propagation along codec motion vectors and the residual-driven gate that decides where\npropagation can be trusted (MAPN)."""
