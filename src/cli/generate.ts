/** `decoding-lab generate`: one decoding run, printed as text or as the DESIGN §4 JSON contract. */
import { decode, guidanceBetas, type StrategyModels, type StrategySpec } from '../core/search/strategy.ts';
import type { DecodeEvent, SequenceResult } from '../core/search/events.ts';
import { generationConfig, parseArm, rescoreEvery, required, strategyOf, type Parsed } from './args.ts';
import { assertSameTokenizer, bundledModels, fileDefaults, lm, resolveModel, rewardFor } from './nodeModels.ts';
import { generateOutput, type GenerateOutput } from '../core/viz/export.ts';

export type { GenerateOutput } from '../core/viz/export.ts';

/** A bundled model's training β (models/manifest.json "beta"), when it has one. */
export function trainingBeta(id: string | undefined): number | undefined {
  const e = id === undefined ? undefined : (bundledModels().find((m) => m.id === id) as { beta?: unknown } | undefined);
  return typeof e?.beta === 'number' && e.beta > 0 ? e.beta : undefined;
}

/** The deprecation line for `generate --beta B` given without `--guidance-beta` on a guided run. */
export const DEPRECATED_BETA_NOTICE =
  'decoding-lab: note: generate --beta B without --guidance-beta is read with its old meaning, the guidance strength (deprecated): write --guidance-beta B; --beta is now DPO\'s reward scale of implicit rewards';

export async function generate(p: Parsed, warn: (line: string) => void = (l) => process.stderr.write(l + '\n')): Promise<GenerateOutput> {
  const strategy = strategyOf(p);
  const policyId = resolveModel(required(p, 'policy', 'give a bundled model id (e.g. tiny-base) or a model folder'), '--policy');
  const prompt = p.prompt;
  if (typeof prompt !== 'string') throw new (await import('./args.ts')).UsageError('--prompt is required: the text to continue');
  const arms = ((p.arm as string[] | undefined) ?? []).map(parseArm).map((a) => ({ ...a, id: resolveModel(a.model, '--arm') }));
  const tunedId = typeof p.tuned === 'string' ? resolveModel(p.tuned, '--tuned') : undefined;
  const refId = typeof p.ref === 'string' ? resolveModel(p.ref, '--ref') : undefined;
  const rmId = typeof p.reward_model === 'string' ? resolveModel(p.reward_model, '--reward-model') : undefined;
  assertSameTokenizer(policyId, [
    ...arms.map((a) => ({ id: a.id, flag: '--arm' })),
    ...(tunedId ? [{ id: tunedId, flag: '--tuned' }] : []),
    ...(refId ? [{ id: refId, flag: '--ref' }] : []),
  ]); // a reward model with another tokenizer scores re-tokenized text (rewardFor)
  let spec: StrategySpec = {
    strategy,
    config: generationConfig(p),
    beta: p.beta as number | undefined,
    guidanceBeta: p.guidance_beta as number | undefined,
    armWeights: arms.map((a) => a.weight),
    argsK: p.args_k as number | undefined,
    argsWeight: p.args_weight as number | undefined,
    n: p.n as number | undefined,
    rsoBeta: p.rso_beta as number | undefined,
    ...(p.reward_weight !== undefined ? { rewardWeight: p.reward_weight as number } : {}),
    ...(p.rescore_every !== undefined ? { rescoreEvery: rescoreEvery(p) } : {}),
    ...(p.rm_candidates !== undefined ? { rmCandidates: p.rm_candidates as number } : {}),
    traceTopK: 0, // the JSON contract has no top-k lists
  };
  const policy = await lm(policyId);
  // Defaults from the policy's generation_config.json for what the command line leaves out (as HF generate()).
  const fromFile = fileDefaults(strategy, spec.config as Record<string, unknown>, policy.generationDefaults);
  if (Object.keys(fromFile).length) {
    spec = { ...spec, config: { ...fromFile, ...spec.config } };
    warn(`decoding-lab: note: from ${policyId}'s generation_config.json: ${Object.entries(fromFile).map(([k, v]) => `${k} ${v}`).join(', ')} (give a value to override)`);
  }
  const models: StrategyModels = {
    policy,
    arms: await Promise.all(arms.map((a) => lm(a.id))),
    tuned: tunedId ? await lm(tunedId) : undefined,
    ref: refId ? await lm(refId) : undefined,
    rewardModel: rmId ? await rewardFor(rmId, policy.tokenizer) : undefined,
    tunedBeta: trainingBeta(tunedId),
    tokenizerSize: policy.tokenizer.vocabSize,
  };
  // BOS where the tokenizer's own rules add one (HF add_special_tokens, as rank does); --add-bos false leaves it out.
  const bos = p.add_bos === false ? undefined : policy.tokenizer.bosTokenId;
  const ids = [...(bos !== undefined ? [bos] : []), ...policy.tokenizer.encode(prompt)];
  const t0 = performance.now();
  let done: readonly SequenceResult[] = [];
  const events: AsyncGenerator<DecodeEvent> = decode(spec, models, ids); // validates first
  if ((arms.length || tunedId || refId) && guidanceBetas(spec, models).deprecatedBeta) warn(DEPRECATED_BETA_NOTICE);
  for await (const e of events) if (e.type === 'done') done = e.sequences;
  const elapsed = performance.now() - t0;
  return generateOutput({
    strategy,
    ...(spec.n !== undefined ? { n: spec.n } : {}),
    promptTokenIds: ids,
    sequences: done.map((result) => ({ result, text: policy.tokenizer.decode(result.tokenIds) })),
    device: 'cpu',
    elapsedMs: elapsed,
  });
}

export function formatText(out: GenerateOutput, prompt: string): string {
  return out.sequences
    .map((s, i) => {
      const head = out.sequences.length > 1 ? `[${i}] score ${s.score.toFixed(3)}${s.reward !== undefined ? ` reward ${s.reward.toFixed(3)}` : ''}${out.strategy === 'diverse_beam' ? ` group ${s.group}` : ''}\n` : '';
      return `${head}${prompt}${s.text}`;
    })
    .join('\n\n');
}
