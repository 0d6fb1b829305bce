"""EfficientAT's mn04_as network and its mel front end in torch: the project's own definition.

Written from the public EfficientAT source (fschmid56/EfficientAT at commit a425fdce:
``models/mn/model.py``, ``models/mn/block_types.py``, ``models/mn/utils.py``,
``models/preprocess.py``; MIT licence) for inference only, so that the released state dict
``mn04_as_mAP_432.pt`` loads with ``strict=True`` (the module names reproduce its keys) and
``tools/convert_efficientat.py`` can export it to ONNX. Developer tool: needs torch (the ``train``
extra); the app never imports it.

What mn04_as is (``get_model(width_mult=0.4, head_type="mlp", se_dims="c", se_agg="max",
se_r=4, strides=(2, 2, 2, 2))``): a MobileNetV3-Large body with every width scaled by 0.4 (rounded
to multiples of 8), batch norm with eps 0.001, squeeze-and-excitation over channels only (sigmoid
gate, ReLU bottleneck of a quarter of the channels), a last 1x1 convolution to 384 channels, then
the MLP head: global average pooling, Linear(384, 512), Hardswish, dropout, Linear(512, 527).

Outputs (as EfficientAT's ``MN.forward``): ``logits`` (n, 527), AudioSet's classes before the
sigmoid, and ``embedding`` (n, 384): the global average over frequency and time of the last
convolution's output (``features[-1]``, after its batch norm and Hardswish), i.e. the pooled
features the classifier reads, before its first linear layer.

The torch front end :class:`MelFrontEnd` transcribes ``AugmentMelSTFT.forward`` in eval mode; its
Kaldi mel bank transcribes ``torchaudio.compliance.kaldi.get_mel_banks`` with no VTLN warp
(torchaudio is not needed). It is the reference the numpy front end of the app
(``genre_desktop.features.efficientat_input``) is tested against.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

NUM_CLASSES = 527
WIDTH = 0.4
BN_EPS = 0.001
SE_RATIO = 4

# MobileNetV3-Large (torchvision's table, as EfficientAT's _mobilenet_v3_conf): input channels,
# kernel, expanded channels, output channels, squeeze-excitation, activation, stride.
LARGE = (
    (16, 3, 16, 16, False, "RE", 1),
    (16, 3, 64, 24, False, "RE", 2),
    (24, 3, 72, 24, False, "RE", 1),
    (24, 5, 72, 40, True, "RE", 2),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 5, 120, 40, True, "RE", 1),
    (40, 3, 240, 80, False, "HS", 2),
    (80, 3, 200, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 184, 80, False, "HS", 1),
    (80, 3, 480, 112, True, "HS", 1),
    (112, 3, 672, 112, True, "HS", 1),
    (112, 5, 672, 160, True, "HS", 2),
    (160, 5, 960, 160, True, "HS", 1),
    (160, 5, 960, 160, True, "HS", 1),
)
LAST_CHANNEL = 1280


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round a width to a multiple of ``divisor``, never more than 10 % below (TF MobileNet's rule)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if new < 0.9 * value:
        new += divisor
    return new


def width(channels: int) -> int:
    return make_divisible(channels * WIDTH)


class ConvBN(nn.Sequential):
    """Conv2d (no bias) -> BatchNorm2d -> optional activation; keys ``0.weight``, ``1.*``."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
                 activation: type[nn.Module] | None = nn.ReLU):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout, eps=BN_EPS, momentum=0.01),
        ]
        if activation is not None:
            layers.append(activation(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """Channel gate: mean over frequency and time, Linear, ReLU, Linear, sigmoid, times the input."""

    def __init__(self, channels: int, squeeze: int):
        super().__init__()
        self.fc1 = nn.Linear(channels, squeeze)
        self.fc2 = nn.Linear(squeeze, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean(dim=(2, 3))
        scale = torch.sigmoid(self.fc2(F.relu(self.fc1(scale))))
        return x * scale[:, :, None, None]


class ConcurrentSE(nn.Module):
    """EfficientAT's wrapper of concurrent gates (over channels only for mn04_as: one gate, whose
    element-wise max with nothing else is itself). Kept for the state dict's key names."""

    def __init__(self, channels: int):
        super().__init__()
        self.conc_se_layers = nn.ModuleList([SqueezeExcitation(channels, make_divisible(channels // SE_RATIO))])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conc_se_layers[0](x)


class InvertedResidual(nn.Module):
    """Expand (1x1, unless no expansion), depthwise kxk, optional SE, project (1x1, linear);
    a residual connection when the shape is kept."""

    def __init__(self, cin: int, kernel: int, expanded: int, cout: int, se: bool, act: str, stride: int):
        super().__init__()
        activation = nn.Hardswish if act == "HS" else nn.ReLU
        layers: list[nn.Module] = []
        if expanded != cin:
            layers.append(ConvBN(cin, expanded, 1, activation=activation))
        layers.append(ConvBN(expanded, expanded, kernel, stride, groups=expanded, activation=activation))
        if se:
            layers.append(ConcurrentSE(expanded))
        layers.append(ConvBN(expanded, cout, 1, activation=None))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return out + x if self.residual else out


class MN04(nn.Module):
    """mn04_as: input (n, 1, 128, frames) log-mel; outputs (logits (n, 527), embedding (n, 384))."""

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        first = width(LARGE[0][0])
        layers: list[nn.Module] = [ConvBN(1, first, 3, 2, activation=nn.Hardswish)]
        for cin, kernel, expanded, cout, se, act, stride in LARGE:
            layers.append(InvertedResidual(width(cin), kernel, width(expanded), width(cout), se, act, stride))
        last_in = width(LARGE[-1][3])
        self.embedding_dim = 6 * last_in
        layers.append(ConvBN(last_in, self.embedding_dim, 1, activation=nn.Hardswish))
        self.features = nn.Sequential(*layers)
        hidden = width(LAST_CHANNEL)
        self.classifier = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(start_dim=1), nn.Linear(self.embedding_dim, hidden),
            nn.Hardswish(inplace=True), nn.Dropout(p=0.2, inplace=True), nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.features(x)
        embedding = x.mean(dim=(2, 3))
        return self.classifier(x), embedding


def load_mn04(checkpoint) -> MN04:
    """The released weights in eval mode; every key must match (``strict=True``)."""
    state = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    net = MN04()
    net.load_state_dict(state, strict=True)
    return net.eval()


# -- the mel front end (AugmentMelSTFT in eval mode) ------------------------------------------

def _kaldi_mel_scale(freq):
    return 1127.0 * torch.log(1.0 + freq / 700.0) if torch.is_tensor(freq) else 1127.0 * math.log(1.0 + freq / 700.0)


def kaldi_mel_banks(num_bins: int, window_length_padded: int, sample_freq: float,
                    low_freq: float, high_freq: float) -> torch.Tensor:
    """torchaudio.compliance.kaldi.get_mel_banks with vtln_warp_factor 1 (float32, (bins, n/2))."""
    num_fft_bins = window_length_padded // 2
    fft_bin_width = sample_freq / window_length_padded
    mel_low, mel_high = _kaldi_mel_scale(low_freq), _kaldi_mel_scale(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    band = torch.arange(num_bins).unsqueeze(1)
    left = mel_low + band * delta
    centre = mel_low + (band + 1.0) * delta
    right = mel_low + (band + 2.0) * delta
    mel = _kaldi_mel_scale(fft_bin_width * torch.arange(float(num_fft_bins))).unsqueeze(0)
    up = (mel - left) / (centre - left)
    down = (right - mel) / (right - centre)
    return torch.max(torch.zeros(1), torch.min(up, down))


class MelFrontEnd(nn.Module):
    """AugmentMelSTFT (n_mels 128, sr 32000, win 800, hop 320, n_fft 1024, fmin 0, fmax None ->
    15000) in eval mode: waveforms (n, samples) -> (n, 128, frames)."""

    def __init__(self, n_mels: int = 128, sr: int = 32000, win_length: int = 800, hopsize: int = 320,
                 n_fft: int = 1024, fmin: float = 0.0, fmax: float | None = None, fmax_aug_range: int = 2000):
        super().__init__()
        self.n_mels, self.sr, self.win_length, self.hopsize, self.n_fft = n_mels, sr, win_length, hopsize, n_fft
        self.fmin = fmin
        self.fmax = sr // 2 - fmax_aug_range // 2 if fmax is None else fmax
        self.register_buffer("window", torch.hann_window(win_length, periodic=False), persistent=False)
        self.register_buffer("preemphasis_coefficient", torch.as_tensor([[[-0.97, 1.0]]]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv1d(x.unsqueeze(1), self.preemphasis_coefficient).squeeze(1)
        x = torch.stft(x, self.n_fft, hop_length=self.hopsize, win_length=self.win_length, center=True,
                       normalized=False, window=self.window, return_complex=True)
        x = torch.view_as_real(x).pow(2).sum(dim=-1)
        bank = kaldi_mel_banks(self.n_mels, self.n_fft, self.sr, self.fmin, self.fmax)
        bank = F.pad(bank, (0, 1), mode="constant", value=0.0)
        mel = torch.matmul(bank.to(x.dtype), x)
        mel = (mel + 0.00001).log()
        return (mel + 4.5) / 5.0


__all__ = ["MN04", "MelFrontEnd", "kaldi_mel_banks", "load_mn04", "make_divisible"]
