"""FID and KID: distances between the Inception-v3 features of the generated set and of the real set.

Everything that defines the numbers is torch-fidelity's: its Inception-v3 (the TensorFlow FID network, whose
features match the reference implementation), its resizing (each uint8 image, at its saved resolution, is resized
to 299x299 with TensorFlow 1.x's bilinear interpolation inside the network), the 2048-d pool features, its Fréchet
distance and its KID (unbiased MMD with the cubic polynomial kernel, averaged over random subsets; mean and std).
This module feeds it batches, optionally under autocast, and keeps the features. One step is ours: for sets of
fewer than 2048 images the Fréchet distance is computed exactly from small matrices (`frechet_distance_low_rank`),
which takes milliseconds where torch-fidelity's 2048x2048 eigen-decomposition takes seconds.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from metrics.base import MetricFamily, MetricInfo, MetricSettings, chunks
from metrics.weights import library_loading, local_weights
from util.errors import UserError
from util.precision import autocast

FEATURE_EXTRACTOR = "inception-v3-compat"  # torch-fidelity's name for the TensorFlow-compatible Inception-v3
FEATURE_LAYER = "2048"  # the pool features FID and KID are defined on


def inception_url() -> str:
    """Where torch-fidelity downloads its Inception-v3 weights from."""
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    return URL_INCEPTION_V3


def load_inception(settings: MetricSettings) -> nn.Module:
    """torch-fidelity's Inception-v3 with its pretrained weights, from --metrics_weights_dir or torch-fidelity's cache.

    The library's own loading code runs: it reads the file we point it to, or loads (downloading on first use)
    from torch.hub's cache. A missing or unreadable file is a one-line UserError naming it and its URL.
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    url = inception_url()
    path = local_weights(url, settings.weights_dir)
    with library_loading("FID and KID need", url, settings.weights_dir):
        model = FeatureExtractorInceptionV3(FEATURE_EXTRACTOR, [FEATURE_LAYER],
                                            feature_extractor_weights_path=None if path is None else str(path),
                                            verbose=True)  # only shows the download's progress bar
    return model.to(settings.device)


def random_inception(seed: int = 0) -> nn.Module:
    """torch-fidelity's Inception-v3 with random weights, for speed measurements and tests (its values mean nothing).

    Convolutions get He-normal weights so activations keep their scale through the network (as trained weights
    do), which keeps the arithmetic, and so the speed, that of the real network.
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    class UnloadedInception(FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, *args, **kwargs):  # an empty state dict: keep the initialisation
            return super().load_state_dict(state_dict, *args, **kwargs) if state_dict else None

    empty = io.BytesIO()
    torch.save({}, empty)
    empty.seek(0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = UnloadedInception(FEATURE_EXTRACTOR, [FEATURE_LAYER], feature_extractor_weights_path=empty)
        for module in model.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    return model


class InceptionFeatures:
    """Turns uint8 NCHW batches into (N, D) float32 features on the CPU: batched, under autocast when asked."""

    def __init__(self, settings: MetricSettings) -> None:
        self.settings = settings
        self.inception = None if settings.feature_extractor is not None else load_inception(settings)
        self.network: Callable[[torch.Tensor], torch.Tensor] = settings.feature_extractor or self.pool_features

    def pool_features(self, images: torch.Tensor) -> torch.Tensor:
        """The Inception-v3 2048-d pool features of uint8 NCHW images (torch-fidelity returns a tuple)."""
        return self.inception(images)[0]

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        features = []
        for piece in chunks(images, self.settings.batch_size):
            with autocast(self.settings.device, self.settings.amp):
                features.append(self.network(piece.to(self.settings.device)).float().cpu())
        return torch.cat(features)


def frechet_distance(fake: torch.Tensor, real: torch.Tensor) -> float:
    """FID from two (N, D) feature sets, in float64.

    When either set has fewer images than features (N < 2048 for Inception: the usual case for a test split or
    an evaluation during training), the covariances have low rank and `frechet_distance_low_rank` computes the
    same distance exactly from small matrices, in a fraction of a second. Otherwise torch-fidelity's statistics
    (mean, covariance) and distance (eigenvalues of the product of the two DxD covariances) are used as they are.
    """
    for name, features in (("generated", fake), ("real", real)):
        if len(features) < 2:
            raise UserError(f"FID needs at least 2 images in each set; the {name} set has {len(features)}")
    if min(len(fake), len(real)) < fake.shape[1]:
        return frechet_distance_low_rank(fake, real)
    return frechet_distance_full(fake, real)


def frechet_distance_full(fake: torch.Tensor, real: torch.Tensor) -> float:
    """torch-fidelity's FID: statistics of each set, then the distance with a DxD eigen-decomposition."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

    stats_fake = fid_features_to_statistics(fake.double())
    stats_real = fid_features_to_statistics(real.double())
    return float(fid_statistics_to_metric(stats_fake, stats_real, verbose=False)[KEY_METRIC_FID])


def frechet_distance_low_rank(fake: torch.Tensor, real: torch.Tensor) -> float:
    """The Fréchet distance |mu_f - mu_r|^2 + tr(S_f) + tr(S_r) - 2 tr((S_f S_r)^(1/2)) without DxD matrices.

    With F (n x D) and R (m x D) the centred features, S_f = F'F / (n-1) and S_r = R'R / (m-1). The nonzero
    eigenvalues of S_f S_r are those of (F R')(F R')' / ((n-1)(m-1)) (a cyclic permutation of the product), that
    is the squared singular values of F R' / sqrt((n-1)(m-1)). So tr((S_f S_r)^(1/2)) is the sum of those singular
    values: an n x m matrix instead of a DxD square root, exact for any n and m, cheapest when they are below D.
    """
    f = fake.double()
    r = real.double()
    mean_f, mean_r = f.mean(dim=0), r.mean(dim=0)
    f = f - mean_f
    r = r - mean_r
    n, m = len(f), len(r)
    trace_f = f.square().sum() / (n - 1)
    trace_r = r.square().sum() / (m - 1)
    trace_sqrt_product = torch.linalg.svdvals(f @ r.T).sum() / ((n - 1) * (m - 1)) ** 0.5
    return float((mean_f - mean_r).square().sum() + trace_f + trace_r - 2 * trace_sqrt_product)


def kernel_inception_distance(fake: torch.Tensor, real: torch.Tensor, subset_size: int, subsets: int,
                              seed: int) -> tuple[float, float]:
    """KID (mean, std over `subsets` random subsets of `subset_size` images per set) by torch-fidelity."""
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

    check_kid_set_sizes(len(fake), len(real), subset_size)
    values = kid_features_to_metric(fake.double(), real.double(), kid_subset_size=subset_size, kid_subsets=subsets,
                                    rng_seed=seed, verbose=False)
    return float(values[KEY_METRIC_KID_MEAN]), float(values[KEY_METRIC_KID_STD])


def check_kid_set_sizes(num_fake: int, num_real: int, subset_size: int) -> None:
    """KID draws subsets without replacement: each set needs at least --kid_subset_size images."""
    smallest = min(num_fake, num_real)
    if smallest < subset_size:
        which = "generated" if num_fake <= num_real else "real"
        raise UserError(f"KID draws subsets of --kid_subset_size {subset_size} images, but the {which} set has only "
                        f"{smallest}; lower --kid_subset_size to at most {smallest} or evaluate more images")


def check_set_sizes(names: Sequence[str], num_fake: int, num_real: int, settings: MetricSettings) -> None:
    """Refuse, before any image is processed, set sizes that FID (2 per set) or KID (a subset) cannot use."""
    if "fid" in names and min(num_fake, num_real) < 2:
        which = "generated" if num_fake <= num_real else "real"
        raise UserError(f"FID needs at least 2 images in each set; the {which} set has {min(num_fake, num_real)}")
    if "kid" in names:
        check_kid_set_sizes(num_fake, num_real, settings.kid_subset_size)


class InceptionMetrics(MetricFamily):
    """FID and KID from one pass of each image through torch-fidelity's Inception-v3."""

    metrics = {
        "fid": MetricInfo(paired=False, higher_is_better=False,
                          description="Fréchet Inception distance between the generated and the real set"),
        "kid": MetricInfo(paired=False, higher_is_better=False,
                          description="kernel Inception distance (mean over subsets; kid_std is their std)"),
    }

    def __init__(self, names: Sequence[str], settings: MetricSettings) -> None:
        super().__init__(names, settings)
        self.features = InceptionFeatures(settings)
        self.fake: list[torch.Tensor] = []
        self.real: list[torch.Tensor] = []

    def add(self, fake: torch.Tensor | None, real: torch.Tensor | None) -> None:
        if fake is not None and len(fake):
            self.fake.append(self.features(fake))
        if real is not None and len(real):
            self.real.append(self.features(real))

    def compute(self) -> dict[str, float]:
        fake = torch.cat(self.fake) if self.fake else torch.zeros(0, 1)
        real = torch.cat(self.real) if self.real else torch.zeros(0, 1)
        values = {}
        for name in self.names:
            if name == "fid":
                values["fid"] = frechet_distance(fake, real)
            elif name == "kid":
                s = self.settings
                values["kid"], values["kid_std"] = kernel_inception_distance(fake, real, s.kid_subset_size,
                                                                             s.kid_subsets, s.kid_seed)
        return values

    def reset(self, keep_real: bool = False) -> None:
        self.fake = []
        if not keep_real:
            self.real = []


def extraction_rate(network: nn.Module | None = None, size: int = 256, batch_size: int = 32, amp: str = "off",
                    device: torch.device | str = "cpu", batches: int = 3, warmup: int = 1) -> float:
    """Images per second of FID feature extraction on `size` x `size` uint8 images (median batch time).

    Measures torch-fidelity's Inception-v3 (random weights unless `network` is given: the speed is the same) as
    FID runs it: batches of `batch_size` images, under autocast when `amp` is 'bf16' or 'fp16'.
    """
    device = torch.device(device)
    network = (network or random_inception()).to(device)
    settings = MetricSettings(device=device, amp=amp, batch_size=batch_size,
                              feature_extractor=lambda batch: network(batch)[0])
    features = InceptionFeatures(settings)
    images = torch.randint(0, 256, (batch_size, 3, size, size), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    times = []
    for step in range(warmup + batches):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        features(images)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if step >= warmup:
            times.append(time.perf_counter() - start)
    return batch_size / float(np.median(times))
