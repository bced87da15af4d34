"""A select box on a map that shows one item (a gate, a corridor) of some GeoJSON layers.

Features carry the item they belong to in their ``pick`` property. Choosing an item in the box
(or clicking a marker whose feature has ``pick_on_click``, or opening the page with
``#<param>=<id>`` in its address) keeps only that item's features in the picked layers, zooms to
them and shows the item's summary (HTML) under the box. The layers stay in the layer control,
so each can still be switched on and off.
"""

from __future__ import annotations

from branca.element import MacroElement
from folium.template import Template


class Picker(MacroElement):
    """The select box (see the module docstring).

    Parameters
    ----------
    layers : list of folium.GeoJson
        The layers whose features are picked.
    options : list of (str, str)
        (value, text) of each item, in order; value "" shows every item.
    initial : str
        The item shown first.
    label : str
        The box's label.
    param : str
        Name of the item in the page address (``#param=value``).
    summaries : dict, optional
        Item value to an HTML summary shown under the box.
    padding : ((int, int), (int, int))
        Pixels kept clear at the top left and bottom right when zooming to an item (the
        boxes on the map).
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var layers = [{{ this.layer_names | join(", ") }}];
            var all = layers.map(function (l) {
                l.corridorsAll = l.getLayers();
                return l.corridorsAll;
            });
            var options = {{ this.options | tojson }};
            var summaries = {{ this.summaries | tojson }};
            var param = {{ this.param | tojson }};
            var control = L.control({position: "topleft"});
            var select, info;
            control.onAdd = function () {
                var div = L.DomUtil.create("div", "corridors-picker");
                var label = L.DomUtil.create("label", "", div);
                label.textContent = {{ this.label | tojson }} + " ";
                select = L.DomUtil.create("select", "", label);
                select.id = "corridors-pick";
                options.forEach(function (o) {
                    var opt = document.createElement("option");
                    opt.value = o[0];
                    opt.textContent = o[1];
                    select.appendChild(opt);
                });
                info = L.DomUtil.create("div", "corridors-pick-info", div);
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                L.DomEvent.on(select, "change", function () { pick(select.value, true); });
                return div;
            };
            control.addTo(map);
            function pick(value, fit) {
                var bounds = L.latLngBounds([]);
                layers.forEach(function (layer, i) {
                    layer.clearLayers();
                    all[i].forEach(function (f) {
                        if (value === "" || f.feature.properties.pick === value) {
                            layer.addLayer(f);
                            bounds.extend(f.getBounds ? f.getBounds() : f.getLatLng());
                        }
                    });
                });
                select.value = value;
                info.innerHTML = summaries[value] || "";
                if (fit && bounds.isValid()) {
                    map.fitBounds(bounds, {paddingTopLeft: {{ this.padding[0] | tojson }},
                                           paddingBottomRight: {{ this.padding[1] | tojson }}});
                }
                try {
                    history.replaceState(null, "", "#" + param + "=" + encodeURIComponent(value));
                } catch (e) { /* addresses of local files may refuse it: keep going */ }
            }
            window.corridorsPick = pick;
            var valid = options.map(function (o) { return o[0]; });
            var m = location.hash.match(new RegExp(param + "=([^&]*)"));
            var first = m ? decodeURIComponent(m[1]) : {{ this.initial | tojson }};
            pick(valid.indexOf(first) >= 0 ? first : {{ this.initial | tojson }}, !!m);
        })();
        {% endmacro %}
    """)

    def __init__(self, layers, options, initial: str, label: str, param: str,
                 summaries: dict[str, str] | None = None,
                 padding=((30, 30), (30, 30))):
        super().__init__()
        self._name = "Picker"
        self.layers = list(layers)
        self.layer_names = [layer.get_name() for layer in self.layers]
        self.options = [list(o) for o in options]
        self.initial = initial
        self.label = label
        self.param = param
        self.summaries = summaries or {}
        self.padding = [list(padding[0]), list(padding[1])]

