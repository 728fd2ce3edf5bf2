/** The options form's state: raw field values (validated by optionsForm.ts) and the shrink toggle. */
import { defaultFormValues, type OptionsFormValues } from './optionsForm.ts';

export class OptionsState {
  form = $state<OptionsFormValues>(defaultFormValues());
  /** Shrink large photos in the browser before uploading. */
  downscale = $state(true);
}
