"""Work items: types, transition rules, next-item strategies, importing and the tracker."""
