import { createApp } from 'vue';
import App from './App.vue';
import router from './router.js';
import './styles.css';
import { applyStoredTextSize } from './shared/textSize.js';
import { appStarted } from './shared/earlyAnswers.js';

appStarted();
applyStoredTextSize();

createApp(App).use(router).mount('#app');
