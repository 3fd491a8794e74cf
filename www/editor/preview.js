// Editor preview: configure nudge before it loads (queued): the language asked for by the
// editor, no listeners, no campaigns fetched, nothing stored or sent.
const lang = new URLSearchParams(location.search).get('lang') || 'en';
document.documentElement.lang = lang;
window.nudge = window.nudge || [];
window.nudge.push(['init', { site: 'editor-preview', lang, listen: false, consent: 'pending', campaigns: { schema: 1, campaigns: [] } }]);
