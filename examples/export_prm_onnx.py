"""Export a Hugging Face process reward model to ONNX for pavsearch's onnx-prm verifier.

The exported graph takes exactly input_ids and attention_mask (int64 [batch, seq]) and returns
logits (float32 [batch, seq, C]), which is what the verifier pool feeds and reads. (The pool also
derives position_ids and token_type_ids from the mask, so plain optimum exports load too; this
script exists for custom heads such as Qwen2.5-Math-PRM's and to keep only the label columns of an
LM head, so the workers do not send back [B, T, vocab] logits.)

  pip install "torch>=2.5" transformers onnx
  # Qwen2.5-Math-PRM-7B: a classification head, logits [B, T, 2] = [bad, good]
  python examples/export_prm_onnx.py Qwen/Qwen2.5-Math-PRM-7B models/qwen-prm-onnx
  # Math-Shepherd (an LM head): keep only the columns of its label tokens "-" and "+" -> [B, T, 2]
  python examples/export_prm_onnx.py peiyi9979/math-shepherd-mistral-7b-prm models/shepherd-onnx \
      --lm-labels 387,648

A 7B model in float32 is ~30 GB: the weights go to external data files beside model.onnx (keep
them together). The tokenizer files are saved beside the model too.
"""
import argparse
import os

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer


class Wrapper(torch.nn.Module):
    def __init__(self, model, label_ids=None):
        super().__init__()
        self.model = model
        self.label_ids = label_ids

    def forward(self, input_ids, attention_mask):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False)
        logits = out.logits if hasattr(out, "logits") else out[0]
        if self.label_ids is not None:
            logits = logits[..., self.label_ids]  # [bad, good] columns of the vocabulary
        return logits.float()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out_dir")
    ap.add_argument("--lm-labels", help="bad,good token ids of an LM-head PRM (e.g. 387,648 for Math-Shepherd)")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()

    os.makedirs(a.out_dir, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(a.model, trust_remote_code=True)
    tok.save_pretrained(a.out_dir)  # writes tokenizer.json (+ tokenizer_config.json)
    if a.lm_labels:
        model = AutoModelForCausalLM.from_pretrained(a.model, torch_dtype=torch.float32)
        labels = torch.tensor([int(x) for x in a.lm_labels.split(",")])
    else:
        model = AutoModel.from_pretrained(a.model, torch_dtype=torch.float32, trust_remote_code=True)
        labels = None
    model.eval()
    wrapper = Wrapper(model, labels)
    ids = tok("1 + 1 = 2", return_tensors="pt").input_ids
    mask = torch.ones_like(ids)
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            (ids, mask),
            os.path.join(a.out_dir, "model.onnx"),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
            opset_version=a.opset,
            do_constant_folding=True,
            dynamo=False,
        )
    print("wrote", os.path.join(a.out_dir, "model.onnx"))


if __name__ == "__main__":
    main()
