/**
 * `decoding-lab` entry: generate | rank | candidates | bench. Exit 0 on success, 2 on bad input (one line on
 * stderr naming the file/line/field at fault), 1 on other failures.
 */
import { ConfigError } from '../core/search/strategy.ts';
import { parseArgs, UsageError } from './args.ts';
import { formatText, generate } from './generate.ts';

const HELP = `decoding-lab: reward-guided decoding and beam search on small ONNX models

  decoding-lab generate --policy M --prompt TEXT [--strategy S] [options] [--json]
    S: greedy | sample | beam | diverse_beam | genarm | implicit | args | best_of_n | rejection
    options (Hugging Face names, --num_beams or --num-beams): max_new_tokens do_sample temperature
      top_k top_p min_p repetition_penalty no_repeat_ngram_size num_beams num_beam_groups
      diversity_penalty length_penalty early_stopping num_return_sequences seed
    --arm M[=WEIGHT] (repeatable) --guidance-beta G   GenARM: s = ℓ_base + (1/G)·Σ wᵢ·ℓ_armᵢ (G default 1;
                                                     the ARMs also guide sample/beam/diverse_beam)
    --tuned M --ref M [--beta B] [--guidance-beta G]   implicit: r = B·(ℓ_tuned − ℓ_ref), B = DPO's β
                                                     (default: the tuned model's training β),
                                                     s = ℓ_base + (1/G)·r (G default B)
      --beta B alone (no --guidance-beta) keeps its old meaning, G = B with reward scale 1 (deprecated)
      genarm/implicit with do_sample sample the whole product by default (top_k 0, top_p 1)
    --reward-model M --args-k K --args-weight W --n N --rso-beta B
    --strategy beam --reward-model M [--reward_weight W] [--rescore_every K|end] [--rm_candidates C]
                     reward-guided beams (RankGen-style): candidates ranked by beam score + W·RM(prefix);
                     the RM rescores every K tokens (default 1; end: only finished hypotheses), each
                     beam's top C tokens join the 2·num_beams candidates (default 0); W 0 = plain beam
    --config file.json                               the same names from a file
  decoding-lab rank --dataset FILE --scorer policy|implicit|arm|sequence [--policy M] [--tuned M --ref M]
                    [--arm M] [--reward-model M] [--beta B] [--length-normalize] [--limit N] [--json]
                    [--alpha A] [--batch-size N]
    --beta B         DPO's β: implicit reward β·(log π_tuned − log π_ref), and R*'s β (default: the
                     tuned model's / policy's training β from models/manifest.json, else 1)
    --ref M          π_ref for R* (policy and implicit scorers; default: the model's base per the
                     manifest). R* is reported with min/median/max over β ∈ {0.01,0.1,1,5,10} and the
                     alignment gap R*(π_ref) − R(π_θ) per β (Chen et al. labels: majority side, α = 0.5 out)
    --alpha A        share of raters assumed to prefer "chosen" (0..1) for pairs whose data has no
                     alpha, so idealized accuracy R* (Chen et al. Eq. 3, with --beta) is reported
                     anyway; its JSON says alpha_source: data | default | mixed
    --append-eos B   append EOS to finished responses (default true for policy/implicit/arm)
    --add-bos B      prepend BOS where the tokenizer adds one (default true)
    --ece-bins N     ECE/ACE bins (default 10; 5 and 20 are in calibration_by_bins too)
    --batch-size N   pairs per batch (default 8); each prompt runs once for both responses
    --chat-template  render prompt and responses through the tokenizer's chat template first
    --token-scores   with --json: each pair gets chosen_tokens/rejected_tokens ({id, text, score})
    --json adds breakdowns: margin_histogram, calibration_bins, by_length, by_ref_logratio,
      skipped_pairs, pair_details
  decoding-lab candidates --policy M (--prompt TEXT | --prompts FILE) [--method nc_sample|diverse_beam|sample]
                    [--k 4] [--seed S] [sampling options] [--nc-penalty L] [--nc-ngram N] [--out FILE]
                     k candidates per prompt as JSONL, one line per prompt: {prompt, method, candidates:
                     [{text, token_ids, logprob}], diversity: {self_bleu, distinct_1, distinct_2}, seed}.
                     FILE: .txt (one prompt a line) or JSONL with a "prompt" field. nc_sample: candidate j
                     loses L·(earlier candidates with that n-gram) on each token completing one (L default
                     1, N default 2; L 0 = sample); diverse_beam: num_beams = num_beam_groups = k.
                     --distribution-distance adds diversity.distribution_distance: mean pairwise
                     1 − cos of the candidates' mean next-token distributions (no embeddings exposed)
  decoding-lab bench [--json] [--repeats N] [--max_new_tokens T] [--shape NAME [--limit P]]
                     Node-only speed ratios (median of N rounds, default 7; T-token runs, default
                     64). \`npm run bench\` adds headless Chromium and writes bench/results.{json,md}
    --shape NAME     also a realistic shape (gpt2-small, smollm2-135m; random weights, built by
                     /usr/bin/python3 models/foundry/shapes.py into bench/shapes/ on first use):
                     each strategy's overhead over the model's own forward passes, with a profile
                     (defaults there: 7 rounds, 32 tokens, P = 16 ranking pairs)

Models: a bundled id from models/manifest.json (tiny-base, tiny-arm-positive, ...) or a model folder.
  --dtype D          the ONNX variant to load (generate, rank): fp32 (default, onnx/model.onnx) | fp16 |
                     q8 (model_quantized) | int8 | uint8 | q4 | q4f16 | bnb4 — onnx/model_<D>.onnx
  --reward-label L   a classifier with several labels as the reward model: one label's logit
                     (POSITIVE, or its index 1), the difference of two (POSITIVE-NEGATIVE), or a
                     weighted mix of several heads ("positivity=1,conciseness=0.5"; names or indices,
                     any finite weights); rank then also reports each head's accuracy (per_attribute)
  --add-bos false    generate: leave out the BOS the tokenizer's rules add (default: added, as HF)
  A reward model with another tokenizer than the policy's scores re-tokenized text (best_of_n,
  rejection, args, rank); generate takes sampling defaults from the policy's generation_config.json.`;

export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
      process.stdout.write(HELP + '\n');
      return cmd ? 0 : 2;
    }
    const p = parseArgs(rest);
    (await import('./nodeModels.ts')).configureModels(p);
    switch (cmd) {
      case 'generate': {
        const out = await generate(p);
        process.stdout.write(p.json ? JSON.stringify(out) + '\n' : formatText(out, p.prompt as string) + '\n');
        return 0;
      }
      case 'rank': {
        const { rank, formatRank } = await import('./rank.ts');
        const out = await rank(p);
        process.stdout.write(p.json ? JSON.stringify(out) + '\n' : formatRank(out) + '\n');
        return 0;
      }
      case 'candidates': {
        await (await import('./candidates.ts')).candidatesCommand(p);
        return 0;
      }
      case 'bench': {
        const { bench, formatBench } = await import('./bench.ts');
        const out = await bench(p);
        process.stdout.write(p.json ? JSON.stringify(out) + '\n' : formatBench(out) + '\n');
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${cmd}"; use generate, rank, candidates or bench`);
    }
  } catch (e) {
    const err = e as Error;
    const usage = err instanceof UsageError || err instanceof ConfigError || err instanceof RangeError || err?.name === 'DatasetError';
    process.stderr.write(`decoding-lab: ${usage ? '' : 'error: '}${(err?.message ?? String(e)).split('\n')[0]}\n`);
    return usage ? 2 : 1;
  }
}
