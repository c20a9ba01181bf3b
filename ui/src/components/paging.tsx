// The state of a server-paged list: the page, and a search that starts again from page 1. The
// search box commits on Enter or the button, so typing sends no request per keystroke.
import { useState } from 'preact/hooks';

export const PAGE_SIZE = 25;

export interface Paging {
  page: number;
  search: string;
  setPage: (p: number) => void;
  setSearch: (s: string) => void;
}

export function usePaging(): Paging {
  const [page, setPage] = useState(1);
  const [search, setSearchState] = useState('');
  return {
    page,
    search,
    setPage,
    setSearch: (s) => {
      setSearchState(s);
      setPage(1);
    },
  };
}

export function SearchBox({ paging, label }: { paging: Paging; label: string }) {
  const [text, setText] = useState(paging.search);
  return (
    <form
      class="search"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        paging.setSearch(text.trim());
      }}
    >
      <input type="search" name="search" aria-label={label} placeholder={label} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button type="submit">Search</button>
    </form>
  );
}
