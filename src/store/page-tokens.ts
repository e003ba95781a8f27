/**
 * Query paging tokens that behave as Timestream's (Query API reference, "NextToken"):
 *
 * - every page gets a token of its own: botocore's paginator (boto3, the AWS CLI) stops with "The
 *   same next token was received twice" when two pages carry one token;
 * - the latest token may be sent again (a retry after a lost answer) and returns the same rows,
 *   up to five times;
 * - once a token is used, the ones before it are no longer valid, and a token is only good with
 *   the QueryString that returned it.
 *
 * A token names its cursor and the page it asks for. The last answer of each query is kept until
 * the query has been idle for the cursor's lifetime, so that even the last page can be asked again.
 */
import { validationError } from "../errors.js";
import type { QueryResponse } from "./types.js";

/** How many times one token may be sent (Timestream: "up to five Query invocations"). */
export const MAX_TOKEN_USES = 5;
/** Paging states kept at most; the least recently used go first. */
const MAX_STATES = 2_000;

interface PagingState {
  queryString: string;
  /** The number of the page the next fresh token asks for. */
  nextPage: number;
  /** The token that asks for the page after the last one returned (none once the query is done). */
  currentToken: string | undefined;
  /** The last page returned for a token, to answer that token again. */
  replay: { token: string; response: QueryResponse; uses: number } | undefined;
  lastUsedMs: number;
}

export type TokenLookup =
  | { kind: "replay"; response: QueryResponse }
  | { kind: "continue"; cursorId: string };

export class PageTokens {
  private readonly states = new Map<string, PagingState>();

  constructor(
    private readonly idleMs: number,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** A new query: its first page needs no token. */
  begin(cursorId: string, queryString: string): void {
    this.expire();
    this.states.set(cursorId, {
      queryString,
      nextPage: 1,
      currentToken: undefined,
      replay: undefined,
      lastUsedMs: this.nowMs(),
    });
    if (this.states.size > MAX_STATES) {
      const oldest = this.states.keys().next().value;
      if (oldest !== undefined) this.states.delete(oldest);
    }
  }

  /** What a NextToken asks for: the same page again, or the next page of a live cursor. Throws a clear ValidationError otherwise. */
  resolve(token: string, queryString: string): TokenLookup {
    this.expire();
    const cursorId = cursorIdOf(token);
    const state = cursorId === null ? undefined : this.states.get(cursorId);
    if (cursorId === null || state === undefined) {
      throw validationError(
        "NextToken is invalid or has expired (a query's tokens last while it is paged, up to 10 minutes idle): run the query again",
      );
    }
    if (queryString !== state.queryString) {
      throw validationError(
        "NextToken belongs to another query: send it with the same QueryString that returned it",
      );
    }
    state.lastUsedMs = this.nowMs();
    this.touch(cursorId, state);
    if (state.replay !== undefined && token === state.replay.token) {
      if (state.replay.uses >= MAX_TOKEN_USES) {
        throw validationError(
          `NextToken was used ${MAX_TOKEN_USES} times, Timestream's limit: go on with the token its answer carried, or run the query again`,
        );
      }
      state.replay.uses++;
      return { kind: "replay", response: state.replay.response };
    }
    if (token !== state.currentToken) {
      throw validationError(
        "NextToken is no longer valid: a later token of this query was used since; go on with the latest token, or run the query again",
      );
    }
    return { kind: "continue", cursorId };
  }

  /**
   * Gives a page computed for `requestToken` (undefined for the first page) its own NextToken when
   * more rows follow, and keeps it to answer the same token again.
   */
  issue(
    cursorId: string,
    requestToken: string | undefined,
    page: QueryResponse,
    more: boolean,
  ): QueryResponse {
    const state = this.states.get(cursorId);
    if (state === undefined) return page; // forgotten meanwhile (evicted): the page still goes out
    let response: QueryResponse = page;
    if (more) {
      const token = encodeToken(cursorId, state.nextPage);
      state.nextPage++;
      state.currentToken = token;
      response = { ...page, NextToken: token };
    } else {
      state.currentToken = undefined;
      const { NextToken: _none, ...rest } = page;
      response = rest;
    }
    state.replay = requestToken === undefined ? undefined : { token: requestToken, response, uses: 1 };
    state.lastUsedMs = this.nowMs();
    // A finished query with nothing to replay needs no state.
    if (!more && requestToken === undefined) this.states.delete(cursorId);
    return response;
  }

  /** CancelQuery: the query's tokens stop working. */
  forget(cursorId: string): void {
    this.states.delete(cursorId);
  }

  private touch(cursorId: string, state: PagingState): void {
    // Map order is insertion order: re-inserting keeps the least recently used first.
    this.states.delete(cursorId);
    this.states.set(cursorId, state);
  }

  private expire(): void {
    const now = this.nowMs();
    for (const [id, state] of this.states) {
      if (now - state.lastUsedMs > this.idleMs) this.states.delete(id);
    }
  }
}

function encodeToken(cursorId: string, page: number): string {
  return Buffer.from(`${cursorId}/${page}`, "utf8").toString("base64url");
}

/** The cursor id inside a token, or null for text this server never handed out. */
export function cursorIdOf(token: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const text = Buffer.from(token, "base64url").toString("utf8");
  const slash = text.lastIndexOf("/");
  return slash > 0 && /^\d+$/.test(text.slice(slash + 1)) ? text.slice(0, slash) : null;
}
