// A Hugging Face tokenizer.json loaded offline through @huggingface/tokenizers (pure JS), with the
// few operations the ONNX PRM path needs and errors that name the file.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ConfigError } from '../errors.ts';

export class HfTokenizer {
  /** Largest token id the tokenizer can produce, plus one (vocabulary and added tokens). */
  readonly vocabSize: number;

  private constructor(
    readonly path: string,
    private readonly tok: Tokenizer,
  ) {
    let max = -1;
    for (const id of tok.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
  }

  /**
   * Load `tokenizer.json`; a `tokenizer_config.json` beside it is read too when present (the library
   * takes lowercasing and clean-up flags from it). Errors name the file.
   */
  static load(path: string): HfTokenizer {
    const json = readJson(path, 'tokenizer');
    const cfgPath = join(dirname(path), 'tokenizer_config.json');
    const cfg = existsSync(cfgPath) ? readJson(cfgPath, 'tokenizer config') : {};
    try {
      return new HfTokenizer(path, new Tokenizer(json as object, cfg as object));
    } catch (e) {
      throw new ConfigError(`tokenizer ${path} could not be built by @huggingface/tokenizers: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Ids of `text` without the post-processor's special tokens (no BOS/EOS added). */
  encode(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Id of a token string (vocabulary or added token), or undefined. */
  tokenId(token: string): number | undefined {
    return this.tok.token_to_id(token);
  }

  decode(ids: readonly number[]): string {
    return this.tok.decode([...ids], { skip_special_tokens: false });
  }

  /**
   * The single id `text` encodes to (a step tag, a label token); a ConfigError names `what`, the text
   * and the file when it is not exactly one token. Encoding comes first, so a SentencePiece-style
   * tokenizer gives the id the text has inside a sentence ("▁ки", as Math-Shepherd reads it), not
   * that of a bare vocabulary entry; a string that only exists as a vocabulary entry is the fallback.
   */
  singleId(text: string, what: string): number {
    const ids = this.encode(text);
    if (ids.length === 1) return ids[0];
    const direct = this.tokenId(text);
    if (direct !== undefined) return direct;
    throw new ConfigError(
      `${what} ${JSON.stringify(text)} is not one token in ${this.path} (it encodes to ${ids.length} ids: [${ids.slice(0, 8).join(', ')}${ids.length > 8 ? ', ...' : ''}]); ` +
        'use the model\'s own tokenizer.json, or give the id explicitly',
    );
  }
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read ${what} file ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${what} file ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}
