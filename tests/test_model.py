import torch

from deepchrome.model import DeepChromeCNN


def test_parameter_count_matches_paper():
    assert sum(p.numel() for p in DeepChromeCNN().parameters()) == 644_177


def test_output_is_log_probabilities():
    out = DeepChromeCNN()(torch.rand(7, 5, 100))
    assert out.shape == (7, 2)
    assert torch.allclose(out.exp().sum(1), torch.ones(7), atol=1e-6)


def test_other_input_shapes():
    assert DeepChromeCNN(n_marks=3, n_bins=60)(torch.rand(2, 3, 60)).shape == (2, 2)
