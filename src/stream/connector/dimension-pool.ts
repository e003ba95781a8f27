import type { Dimension } from "../../store/index.js";

/** A node of the pool's trie: one step per dimension name and value. */
interface PoolNode {
  next: Map<string, Map<string, PoolNode>> | undefined;
  array: Dimension[] | undefined;
}

const newNode = (): PoolNode => ({ next: undefined, array: undefined });

/**
 * Gives the records of one series one shared Dimensions array. The store checks a Dimensions
 * array once per write by identity, so a 50,000-record batch of 2,200 series costs 2,200 checks,
 * not 50,000. The pool lives for one batch, which bounds its memory by the batch's series.
 *
 * Series are found through a trie of (name, value) steps rather than a joined key string: the
 * strings JSON.parse made are looked up as they are, with no concatenation or hashing of a long
 * key per record. The dimensions count in the order the payload lists them: producers write a
 * series' keys in one order, and sorting every record's names would cost more than the occasional
 * second array for a series whose keys come in another order (both name the same series).
 */
export class DimensionPool {
  private readonly root = newNode();
  private node = this.root;
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private count = 0;
  private series = 0;

  /** Starts the dimensions of a new record. */
  begin(): void {
    this.node = this.root;
    this.count = 0;
  }

  add(name: string, value: string): void {
    const node = this.node;
    node.next ??= new Map();
    let byValue = node.next.get(name);
    if (byValue === undefined) {
      byValue = new Map();
      node.next.set(name, byValue);
    }
    let child = byValue.get(value);
    if (child === undefined) {
      child = newNode();
      byValue.set(value, child);
    }
    this.node = child;
    this.names[this.count] = name;
    this.values[this.count] = value;
    this.count++;
  }

  /** The shared array for the dimensions added since `begin`. Treat it as read-only. */
  end(): Dimension[] {
    const node = this.node;
    if (node.array === undefined) {
      const array: Dimension[] = new Array(this.count);
      for (let i = 0; i < this.count; i++)
        array[i] = Object.freeze({ Name: this.names[i]!, Value: this.values[i]! });
      node.array = Object.freeze(array) as Dimension[];
      this.series++;
    }
    return node.array;
  }

  /** Distinct series (dimension arrays) handed out. */
  get size(): number {
    return this.series;
  }
}
