"""Key frame proposals: the K-FPN network and its unsupervised loss, frozen backbone features
(cached per video), and the baselines (uniform, k-means) it is compared with."""
