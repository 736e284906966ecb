"""check_model's gradient and input rules: a parameter is refused only when forward does not
use it, and the forecast must depend on the input window (checked with ``revin`` off, which
RevIN's de-normalisation would otherwise satisfy for any forecast) and on no other window of
its batch (consecutive windows, as scored) nor on what it forecast before, in eval mode; a
forward without ``x_mark`` and a forward that returns no tensor are contract errors too."""

from __future__ import annotations

import re

import pytest

from tests.models import faulty_models as faulty
from tsbench.models import ContractError, check_model

NO_INPUT = ("the forecast does not depend on the input window (with revin=False, two different "
            "windows give the same forecast) -> compute the forecast from x, not from "
            "parameters or x_mark alone")


def test_a_zero_initialised_output_layer_is_a_valid_model() -> None:
    # before training, the layers before a zero output layer get exactly zero gradients
    check_model(faulty.ZeroOutput, hidden=8)


def test_a_model_that_ignores_its_input_is_refused() -> None:
    with pytest.raises(ContractError, match=re.escape(f"LearnedConstant breaks the model "
                                                      f"contract: {NO_INPUT}")):
        check_model(faulty.LearnedConstant)


def test_revin_does_not_make_an_ignored_input_count() -> None:
    # with revin on (this model's default), the forecast moves with x through the
    # de-normalisation alone; the input dependence is checked with revin off
    with pytest.raises(ContractError, match=re.escape(NO_INPUT)):
        check_model(faulty.AttachedRevinConstant)


def test_a_model_working_on_its_input_in_place_is_valid() -> None:
    # the normalisation many models port (x = x - mean; x /= std) modifies a tensor autograd
    # needs: it trains, so the contract must not trip over it
    check_model(faulty.InPlaceNorm)


def test_an_unused_parameter_is_still_refused() -> None:
    class Unused(faulty.TimeLinear):
        def __init__(self, seq_len: int, pred_len: int, n_vars: int,
                     revin: bool = False) -> None:
            super().__init__(seq_len, pred_len, n_vars)
            self.spare = faulty.nn.Linear(2, 2)

    with pytest.raises(ContractError, match=re.escape(
            "parameter spare.weight gets no gradient (not used in forward?) -> use it in "
            "forward, delete it, or freeze it (requires_grad_(False)) if it is not to be trained")):
        check_model(Unused)


def test_forward_without_x_mark_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match=re.escape(
            "NoMarks breaks the model contract: forward does not take x_mark")):
        check_model(faulty.NoMarks)


def test_forward_returning_a_tuple_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match=re.escape("forward returns a tuple, not a tensor")):
        check_model(faulty.TupleOut)


def test_a_forecast_that_depends_on_the_other_windows_of_its_batch_is_refused() -> None:
    # centred on the batch's mean, a window's forecast (so the scores) would change with
    # data.eval_batch_size
    with pytest.raises(ContractError, match=re.escape(
            "BatchCentered breaks the model contract: with revin=False in eval mode the "
            "forecast of window 0 of a batch of 8 consecutive windows differs from its "
            "forecast alone")) as raised:
        check_model(faulty.BatchCentered)
    assert ("it depends on the other windows in the batch, so its scores would change with "
            "data.eval_batch_size -> compute each window's forecast from that window alone"
            ) in str(raised.value)


def test_batch_norm_in_eval_mode_is_per_window() -> None:
    # its running statistics in eval mode: each window's forecast is its own
    check_model(faulty.BatchNormed)


def test_a_forecast_copied_from_the_later_windows_of_its_batch_is_refused() -> None:
    # honest on random windows; on consecutive ones, as a scored split batches them, it
    # copies each window's future from the later windows' look-backs
    with pytest.raises(ContractError, match=re.escape(
            "PeeksAhead breaks the model contract: with revin=False in eval mode the forecast "
            "of window 0 of a batch of 8 consecutive windows differs from its forecast alone")):
        check_model(faulty.PeeksAhead)


def test_a_forecast_that_copies_across_large_batches_only_is_refused() -> None:
    # honest in batches of 8 and alone; in a batch of 64, as scoring batches windows at
    # data.eval_batch_size, it copies from the later windows' look-backs
    with pytest.raises(ContractError) as raised:
        check_model(faulty.PeeksPastEight)
    said = str(raised.value)
    assert said.startswith("PeeksPastEight breaks the model contract: with revin=False in eval "
                           "mode its forecasts of 64 consecutive windows in one batch differ "
                           "from their forecasts in batches of 8 (by up to "), said
    assert said.endswith("so its scores would change with data.eval_batch_size -> compute "
                         "each window's forecast from that window alone (no statistics, "
                         "lookups or copies across the batch dimension)"), said


def test_a_forecast_that_remembers_the_windows_it_has_seen_is_refused() -> None:
    # the same alone as in its batch (it looks up the rows it has just been shown), but a
    # window's forecast follows every row it has seen since
    with pytest.raises(ContractError) as raised:
        check_model(faulty.RemembersRows)
    said = str(raised.value)
    assert said.startswith("RemembersRows breaks the model contract: with revin=False in eval "
                           "mode the forecast of 8 consecutive windows changes (by up to "), said
    assert said.endswith(
        "after it forecast the 8 windows that follow them: it keeps something of the windows "
        "it has seen, so its scores would depend on what it forecast before -> keep nothing "
        "between forecasts in eval mode (no rows or caches outside the parameters and "
        "buffers training sets)"), said
