/** The app's one upload store, wired to the main store: a finished upload becomes the run's data set. */
import { climStore } from './store';
import { createUploadStore } from './upload-store';

export const uploads = createUploadStore({
  size: () => Math.max(...climStore.getState().config.resolutions),
  seed: () => climStore.getState().config.seed,
  use: (data, report) => climStore.getState().loadUpload(data, report),
  currentName: () => {
    const s = climStore.getState();
    return s.dataset === 'upload' ? (s.upload?.name ?? 'upload') : s.dataset;
  },
});
