/** One polite live region for the whole page: short messages for screen readers. */
export class Announcer {
  message = $state('');
  #last = '';

  say(message: string): void {
    // Re-announcing the same words needs the text to change; a trailing no-break space does it.
    this.message = message === this.#last ? `${message}\u00a0` : message;
    this.#last = message;
  }
}

export const announcer = new Announcer();
